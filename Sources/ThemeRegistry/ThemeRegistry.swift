import ThemeService

/// The theme plugins this build of Koers holds, and which one serves a theme.
///
/// `entries` is generated at build time (the build-tool plugin `ListThemePlugins`, from
/// Package.swift's `themePlugins`), so there is no hand-written list of plugins to keep.
///
/// ```swift
/// let plugin = ThemeRegistry.plugin(for: "safety")   // SafetyPlugin
/// let other = ThemeRegistry.plugin(for: "bestuurskracht")   // GenericPlugin: no code of its own
/// ```
public enum ThemeRegistry {
    /// One theme plugin: its module, its folder in the package, and the plugin itself.
    public struct Entry: Sendable {
        /// The Swift module (`TalentPlugin`), whose primary type has the same name.
        public let module: String
        /// Its folder, relative to the package (`Plugins/Talent`).
        public let folder: String
        /// The plugin.
        public let plugin: any ThemePlugin

        public init(module: String, folder: String, plugin: any ThemePlugin) {
            self.module = module
            self.folder = folder
            self.plugin = plugin
        }
    }

    /// The plugin for a theme: its team's own, or `GenericPlugin` for a theme without code.
    ///
    /// The plan decides which themes exist; check the theme against it first.
    public static func plugin(for theme: String) -> any ThemePlugin {
        entries.first { $0.plugin.theme == theme }?.plugin ?? GenericPlugin(theme: theme)
    }

    /// Themes that more than one plugin claims, with the modules claiming them; empty when
    /// each theme has one plugin at most (a test holds this for the package's plugins).
    public static func contested() -> [String: [String]] {
        Dictionary(grouping: entries, by: \.plugin.theme).filter { $0.value.count > 1 }.mapValues { $0.map(\.module) }
    }
}
