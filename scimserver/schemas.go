package scimserver

// schemaAttr is one attribute definition of a /Schemas document
// (RFC 7643 §7).
type schemaAttr struct {
	Name            string       `json:"name"`
	Type            string       `json:"type"`
	MultiValued     bool         `json:"multiValued"`
	Description     string       `json:"description"`
	Required        bool         `json:"required"`
	CaseExact       bool         `json:"caseExact"`
	Mutability      string       `json:"mutability"`
	Returned        string       `json:"returned"`
	Uniqueness      string       `json:"uniqueness"`
	CanonicalValues []string     `json:"canonicalValues,omitempty"`
	ReferenceTypes  []string     `json:"referenceTypes,omitempty"`
	SubAttributes   []schemaAttr `json:"subAttributes,omitempty"`
}

// str is a single-valued, optional, readWrite string attribute that
// compares case-exactly.
func str(name, description string) schemaAttr {
	return schemaAttr{Name: name, Type: "string", Description: description, CaseExact: true,
		Mutability: "readWrite", Returned: "default", Uniqueness: "none"}
}

// fold is str for an attribute that compares case-insensitively.
func fold(name, description string) schemaAttr {
	a := str(name, description)
	a.CaseExact = false
	return a
}

// primaryAttr is the primary flag of a multi-valued attribute.
func primaryAttr(description string) schemaAttr {
	return schemaAttr{Name: "primary", Type: "boolean", Description: description,
		Mutability: "readWrite", Returned: "default", Uniqueness: "none"}
}

// userAttributes are the core User attributes the server stores and
// returns (ims, photos, roles and the like are not supported and not
// advertised); groups is read-only. caseExact is false exactly where comparisons fold case:
// userName, displayName and emails.value in filters (on key columns), and
// the sub-attributes of phoneNumbers and addresses, which only PATCH value
// filters compare. Everything else compares case-exactly.
var userAttributes = []schemaAttr{
	{Name: "userName", Type: "string", Required: true, CaseExact: false,
		Description: "Unique identifier for the User, compared case-insensitively.",
		Mutability:  "readWrite", Returned: "always", Uniqueness: "server"},
	{Name: "name", Type: "complex", Description: "The components of the user's name.",
		Mutability: "readWrite", Returned: "default", Uniqueness: "none",
		SubAttributes: []schemaAttr{
			str("formatted", "The full name, formatted for display."),
			str("familyName", "The family name."),
			str("givenName", "The given name."),
			str("middleName", "The middle name."),
			str("honorificPrefix", "The honorific prefix (Ms.)."),
			str("honorificSuffix", "The honorific suffix (III)."),
		}},
	fold("displayName", "The name of the User, suitable for display; compared case-insensitively."),
	str("nickName", "The casual way to address the user."),
	{Name: "profileUrl", Type: "reference", ReferenceTypes: []string{"external"}, CaseExact: true,
		Description: "A URI of the user's online profile.",
		Mutability:  "readWrite", Returned: "default", Uniqueness: "none"},
	str("title", "The user's title (position)."),
	str("userType", "The relationship between the organization and the user."),
	str("preferredLanguage", "The user's preferred written or spoken language."),
	str("locale", "The user's default location for localisation."),
	str("timezone", "The user's time zone, in IANA format."),
	{Name: "active", Type: "boolean",
		Description: "Whether the user may use the service; false revokes access.",
		Mutability:  "readWrite", Returned: "default", Uniqueness: "none"},
	{Name: "password", Type: "string", CaseExact: true,
		Description: "Accepted and discarded: never stored, logged or returned.",
		Mutability:  "writeOnly", Returned: "never", Uniqueness: "none"},
	{Name: "emails", Type: "complex", MultiValued: true,
		Description: "Email addresses, stored as sent. The profile email is the primary one, else the first work one, else the first.",
		Mutability:  "readWrite", Returned: "default", Uniqueness: "none",
		SubAttributes: []schemaAttr{
			fold("value", "The email address, compared case-insensitively."),
			str("display", "A label for the address."),
			{Name: "type", Type: "string", Description: "The kind of address.", CaseExact: true,
				CanonicalValues: []string{"work", "home", "other"},
				Mutability:      "readWrite", Returned: "default", Uniqueness: "none"},
			primaryAttr("Whether this is the primary address."),
		}},
	{Name: "phoneNumbers", Type: "complex", MultiValued: true,
		Description: "Phone numbers, stored as sent (at most 20).",
		Mutability:  "readWrite", Returned: "default", Uniqueness: "none",
		SubAttributes: []schemaAttr{
			fold("value", "The phone number."),
			fold("display", "A label for the number."),
			{Name: "type", Type: "string", Description: "The kind of number.",
				CanonicalValues: []string{"work", "home", "mobile", "fax", "pager", "other"},
				Mutability:      "readWrite", Returned: "default", Uniqueness: "none"},
			primaryAttr("Whether this is the primary number."),
		}},
	{Name: "addresses", Type: "complex", MultiValued: true,
		Description: "Physical mailing addresses, stored as sent (at most 20).",
		Mutability:  "readWrite", Returned: "default", Uniqueness: "none",
		SubAttributes: []schemaAttr{
			fold("formatted", "The full mailing address, formatted for display."),
			fold("streetAddress", "The street address."),
			fold("locality", "The city or locality."),
			fold("region", "The state or region."),
			fold("postalCode", "The zip or postal code."),
			fold("country", "The country, as an ISO 3166-1 alpha-2 code."),
			{Name: "type", Type: "string", Description: "The kind of address.",
				CanonicalValues: []string{"work", "home", "other"},
				Mutability:      "readWrite", Returned: "default", Uniqueness: "none"},
			primaryAttr("Whether this is the primary address."),
		}},
	groupRefAttr("groups", "The groups the user is a direct member of; changed through /Groups.", "Group", "readOnly"),
}

// groupRefAttr is a multi-valued reference to resources of refType (a
// group's members, a user's groups).
func groupRefAttr(name, description, refType, mutability string) schemaAttr {
	return schemaAttr{Name: name, Type: "complex", MultiValued: true, Description: description,
		Mutability: mutability, Returned: "default", Uniqueness: "none",
		SubAttributes: []schemaAttr{
			{Name: "value", Type: "string", CaseExact: false,
				Description: "The id of the " + refType + ".",
				Mutability:  "immutable", Returned: "default", Uniqueness: "none"},
			{Name: "$ref", Type: "reference", ReferenceTypes: []string{refType}, CaseExact: true,
				Description: "The URI of the " + refType + ".",
				Mutability:  "readOnly", Returned: "default", Uniqueness: "none"},
			{Name: "display", Type: "string", CaseExact: true,
				Description: "The " + refType + "'s name, for display.",
				Mutability:  "readOnly", Returned: "default", Uniqueness: "none"},
		}}
}

// groupAttributes are the core Group attributes. displayName is unique
// among the organization's SCIM groups and compares case-insensitively, as
// members.value (an id) does; filters take the whole grammar on
// displayName, externalId, id, members.value and meta.created,
// meta.lastModified and meta.resourceType (the store's Group catalogue).
var groupAttributes = []schemaAttr{
	{Name: "displayName", Type: "string", Required: true, CaseExact: false,
		Description: "The group's name, unique and compared case-insensitively.",
		Mutability:  "readWrite", Returned: "default", Uniqueness: "server"},
	groupRefAttr("members", "The group's direct members: users of the organization (at most 10,000 changed per request).", "User", "readWrite"),
}

// enterpriseAttributes are the enterprise User extension's attributes.
var enterpriseAttributes = []schemaAttr{
	str("employeeNumber", "The employee number."),
	str("costCenter", "The cost center."),
	str("organization", "The organization."),
	str("division", "The division."),
	str("department", "The department."),
	{Name: "manager", Type: "complex", Description: "The user's manager.",
		Mutability: "readWrite", Returned: "default", Uniqueness: "none",
		SubAttributes: []schemaAttr{
			{Name: "value", Type: "string", CaseExact: true,
				Description: "The id (or externalId) of the manager's User.",
				Mutability:  "readWrite", Returned: "default", Uniqueness: "none"},
			{Name: "$ref", Type: "reference", ReferenceTypes: []string{"User"}, CaseExact: true,
				Description: "The URI of the manager's User, when it resolves.",
				Mutability:  "readOnly", Returned: "default", Uniqueness: "none"},
			{Name: "displayName", Type: "string", CaseExact: true,
				Description: "The manager's displayName, when it resolves.",
				Mutability:  "readOnly", Returned: "default", Uniqueness: "none"},
		}},
}
