import Mustache

// The views answer Mustache by name rather than through Mirror: a page of many rows
// looked every name up by reflection, which cost tens of milliseconds per page.

extension ItemRow: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "id": self.id
        case "name": self.name
        case "kind": self.kind
        case "state": self.state
        case "stateWord": self.stateWord
        case "symbol": self.symbol
        case "progress": self.progress
        case "progressWidth": self.progressWidth
        case "expected": self.expected
        case "expectedLeft": self.expectedLeft
        case "why": self.why
        case "due": self.due
        case "link": self.link
        default: nil
        }
    }
}

extension InterventionView: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "id": self.id
        case "name": self.name
        case "owner": self.owner
        case "areas": self.areas
        case "state": self.state
        case "stateWord": self.stateWord
        case "symbol": self.symbol
        case "counts": self.counts
        case "items": self.items
        case "hasItems": self.hasItems
        default: nil
        }
    }
}

extension GoalView: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "name": self.name
        case "interventions": self.interventions
        case "indicators": self.indicators
        case "hasIndicators": self.hasIndicators
        default: nil
        }
    }
}

extension ThemeView: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "id": self.id
        case "name": self.name
        case "state": self.state
        case "stateWord": self.stateWord
        case "symbol": self.symbol
        case "silent": self.silent
        case "heard": self.heard
        case "counts": self.counts
        case "goals": self.goals
        default: nil
        }
    }
}

extension AlertView: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "key": self.key
        case "keyPath": self.keyPath
        case "severity": self.severity
        case "severityWord": self.severityWord
        case "state": self.state
        case "stateWord": self.stateWord
        case "subject": self.subject
        case "subjectName": self.subjectName
        case "link": self.link
        case "theme": self.theme
        case "meta": self.meta
        case "since": self.since
        case "evidence": self.evidence
        case "action": self.action
        case "acknowledged": self.acknowledged
        case "canAcknowledge": self.canAcknowledge
        default: nil
        }
    }
}

extension ChangeView: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "date": self.date
        case "text": self.text
        case "symbol": self.symbol
        case "state": self.state
        case "link": self.link
        default: nil
        }
    }
}

extension CountView: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "state": self.state
        case "word": self.word
        case "symbol": self.symbol
        case "count": self.count
        default: nil
        }
    }
}
