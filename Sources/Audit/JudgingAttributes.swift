/// What each built-in rule cannot judge without (see `Rule.judgingAttributes`), kept apart from the
/// rules' own files so the list reads in one place.
extension DisabledAccountRule {
    public static let judgingAttributes = ["userAccountControl"]
}

extension StalePasswordRule {
    public static let judgingAttributes = ["pwdLastSet"]
}

extension MissingSPNRule {
    // Without userAccountControl it judges nobody (enabled accounts only), and without
    // servicePrincipalName every computer would look as if it had lost all its SPNs.
    public static let judgingAttributes = ["servicePrincipalName", "userAccountControl"]
}

extension DuplicateSPNRule {
    public static let judgingAttributes = ["servicePrincipalName"]
}
