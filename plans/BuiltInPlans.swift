import Foundation

/// The plans that ship with Koers. The YAML files beside this one are the data; this
/// file only finds them.
public enum BuiltInPlans {
    /// The path of the built-in NPHLN plan (`plans/nphln.yaml`), bundled as a resource.
    public static var nphlnPath: String? {
        Bundle.module.path(forResource: "nphln", ofType: "yaml")
    }

    /// The built-in NPHLN plan's text.
    public static func nphlnText() throws -> String {
        guard let path = nphlnPath else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "the built-in plan resource nphln.yaml is missing from the Koers bundle"])
        }
        return try String(contentsOfFile: path, encoding: .utf8)
    }
}
