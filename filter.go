package scimbridge

// FilterOp is a SCIM filter operator (RFC 7644 §3.4.2.2).
type FilterOp string

const (
	OpEq FilterOp = "eq"
	OpNe FilterOp = "ne"
	OpCo FilterOp = "co"
	OpSw FilterOp = "sw"
	OpEw FilterOp = "ew"
	OpGt FilterOp = "gt"
	OpGe FilterOp = "ge"
	OpLt FilterOp = "lt"
	OpLe FilterOp = "le"
	OpPr FilterOp = "pr"
)

// Filter is a parsed filter tree. The store compiles it to parameterised SQL
// through its attribute catalogue: attribute names resolve only through the
// catalogue (an unknown one is EINVALID with scimType invalidFilter) and
// values are always bind parameters.
type Filter interface{ filterNode() }

// CompareFilter compares one attribute with a value. Attr is a SCIM
// attribute path, matched case-insensitively, optionally URN-prefixed:
// "userName", "name.givenName", "emails.value", "meta.lastModified",
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department".
// Inside a ValuePathFilter, Attr is the sub-attribute ("value", "type").
// Value is a string, bool, float64 or nil; it is ignored for OpPr.
type CompareFilter struct {
	Attr  string
	Op    FilterOp
	Value any
}

// AndFilter matches when both sides match.
type AndFilter struct{ Left, Right Filter }

// OrFilter matches when either side matches.
type OrFilter struct{ Left, Right Filter }

// NotFilter matches when Filter does not (including where the attribute is
// unassigned).
type NotFilter struct{ Filter Filter }

// ValuePathFilter matches when one entry of the multi-valued attribute Attr
// ("emails") matches Filter, e.g. emails[type eq "work" and value co "@x"].
type ValuePathFilter struct {
	Attr   string
	Filter Filter
}

func (CompareFilter) filterNode()   {}
func (AndFilter) filterNode()       {}
func (OrFilter) filterNode()        {}
func (NotFilter) filterNode()       {}
func (ValuePathFilter) filterNode() {}
