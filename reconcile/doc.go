// Package reconcile is the core shared by the SCIM server (push) and the
// Google bridge (pull): it normalises a desired profile, diffs it against the
// stored one, decides ownership and matching for a new user (create, adopt,
// revive or conflict) and builds the whole resulting profile of every
// change the store commits.
//
// Everything here is pure: no I/O, no clock (the caller passes now), no
// HTTP, SQL or Google types. The caller looks candidates up, calls Decide,
// builds the changes with NewProfile, Apply, Adopt or ReleaseKeys, and
// hands them to the store's ApplyChange with their events. Who may change,
// adopt or only skip a profile is decided once, by ClaimOf, for every path.
//
// Field names in diffs are SCIM attribute paths: userName, name.formatted,
// name.familyName, name.givenName, name.middleName, name.honorificPrefix,
// name.honorificSuffix, displayName, nickName, profileUrl, title, userType,
// preferredLanguage, locale, timezone, active, emails, the enterprise
// employeeNumber, costCenter, organization, division, department and manager
// (short names, without the extension URN), externalId and googleId. Change
// builders also report email (the derived profile email), detached, source
// and role when those change.
package reconcile
