import Mustache

// The views answer Mustache by name rather than through Mirror: a page of many rows
// looked every name up by reflection, which cost tens of milliseconds per page.

extension ItemRow: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "id": id
        case "name": self.name
        case "kind": kind
        case "state": state
        case "stateWord": stateWord
        case "symbol": symbol
        case "progress": progress
        case "progressWidth": progressWidth
        case "expected": expected
        case "expectedLeft": expectedLeft
        case "why": why
        case "due": due
        case "link": link
        default: nil
        }
    }
}

extension InterventionView: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "id": id
        case "name": self.name
        case "owner": owner
        case "areas": areas
        case "state": state
        case "stateWord": stateWord
        case "symbol": symbol
        case "counts": counts
        case "items": items
        case "hasItems": hasItems
        default: nil
        }
    }
}

extension GoalView: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "name": self.name
        case "interventions": interventions
        case "indicators": indicators
        case "hasIndicators": hasIndicators
        default: nil
        }
    }
}

extension ThemeView: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "id": id
        case "name": self.name
        case "state": state
        case "stateWord": stateWord
        case "symbol": symbol
        case "silent": silent
        case "heard": heard
        case "counts": counts
        case "goals": goals
        default: nil
        }
    }
}

extension AlertView: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "key": key
        case "keyPath": keyPath
        case "severity": severity
        case "severityWord": severityWord
        case "state": state
        case "stateWord": stateWord
        case "subject": subject
        case "subjectName": subjectName
        case "link": link
        case "theme": theme
        case "meta": meta
        case "since": since
        case "evidence": evidence
        case "action": action
        case "acknowledged": acknowledged
        case "canAcknowledge": canAcknowledge
        default: nil
        }
    }
}

extension ChangeView: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "date": date
        case "text": text
        case "symbol": symbol
        case "state": state
        case "link": link
        default: nil
        }
    }
}

extension CountView: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "state": state
        case "word": word
        case "symbol": symbol
        case "count": count
        default: nil
        }
    }
}
