package scimserver

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/scim"
)

// Discovery documents (RFC 7643 §5–7, RFC 7644 §4). They advertise exactly
// what the server does: patch, filter (maxResults 1000), sort and etag;
// no bulk, no password change. Users and Groups are the resource types.

const (
	schemaServiceProviderConfig = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	schemaResourceType          = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	schemaSchema                = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

type meta struct {
	ResourceType string `json:"resourceType"`
	Location     string `json:"location"`
}

type supported struct {
	Supported bool `json:"supported"`
}

type serviceProviderConfig struct {
	Schemas               []string    `json:"schemas"`
	DocumentationURI      string      `json:"documentationUri,omitempty"`
	Patch                 supported   `json:"patch"`
	Bulk                  bulkConfig  `json:"bulk"`
	Filter                filterCfg   `json:"filter"`
	ChangePassword        supported   `json:"changePassword"`
	Sort                  supported   `json:"sort"`
	ETag                  supported   `json:"etag"`
	AuthenticationSchemes []authSchem `json:"authenticationSchemes"`
	Meta                  meta        `json:"meta"`
}

type bulkConfig struct {
	Supported      bool `json:"supported"`
	MaxOperations  int  `json:"maxOperations"`
	MaxPayloadSize int  `json:"maxPayloadSize"`
}

type filterCfg struct {
	Supported  bool `json:"supported"`
	MaxResults int  `json:"maxResults"`
}

type authSchem struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Primary     bool   `json:"primary"`
}

type resourceType struct {
	Schemas          []string          `json:"schemas"`
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	Endpoint         string            `json:"endpoint"`
	Description      string            `json:"description"`
	Schema           string            `json:"schema"`
	SchemaExtensions []schemaExtension `json:"schemaExtensions"`
	Meta             meta              `json:"meta"`
}

type schemaExtension struct {
	Schema   string `json:"schema"`
	Required bool   `json:"required"`
}

type schemaDoc struct {
	Schemas     []string     `json:"schemas"`
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Attributes  []schemaAttr `json:"attributes"`
	Meta        meta         `json:"meta"`
}

func (s *Server) handleServiceProviderConfig(w http.ResponseWriter, r *http.Request) {
	s.writeDoc(w, r, serviceProviderConfig{
		Schemas:        []string{schemaServiceProviderConfig},
		Patch:          supported{true},
		Bulk:           bulkConfig{},
		Filter:         filterCfg{Supported: true, MaxResults: maxCount},
		ChangePassword: supported{false},
		Sort:           supported{true},
		ETag:           supported{true},
		AuthenticationSchemes: []authSchem{{
			Type:        "oauthbearertoken",
			Name:        "OAuth Bearer Token",
			Description: "The organization's SCIM token (scb_...) from `scimbridge scim enable`, sent as Authorization: Bearer.",
			Primary:     true,
		}},
		Meta: meta{ResourceType: "ServiceProviderConfig", Location: s.baseURL + "/ServiceProviderConfig"},
	})
}

func (s *Server) userResourceType() resourceType {
	return resourceType{
		Schemas:          []string{schemaResourceType},
		ID:               "User",
		Name:             "User",
		Endpoint:         "/Users",
		Description:      "User Account",
		Schema:           scim.SchemaUser,
		SchemaExtensions: []schemaExtension{{Schema: scim.SchemaEnterprise, Required: false}},
		Meta:             meta{ResourceType: "ResourceType", Location: s.baseURL + "/ResourceTypes/User"},
	}
}

func (s *Server) groupResourceType() resourceType {
	return resourceType{
		Schemas:          []string{schemaResourceType},
		ID:               "Group",
		Name:             "Group",
		Endpoint:         "/Groups",
		Description:      "Group",
		Schema:           scim.SchemaGroup,
		SchemaExtensions: []schemaExtension{},
		Meta:             meta{ResourceType: "ResourceType", Location: s.baseURL + "/ResourceTypes/Group"},
	}
}

func (s *Server) handleResourceTypes(w http.ResponseWriter, r *http.Request) {
	s.writeDoc(w, r, docList(s.userResourceType(), s.groupResourceType()))
}

func (s *Server) handleResourceType(w http.ResponseWriter, r *http.Request) {
	switch r.PathValue("name") {
	case "User":
		s.writeDoc(w, r, s.userResourceType())
	case "Group":
		s.writeDoc(w, r, s.groupResourceType())
	default:
		s.writeError(w, r, scimbridge.Errorf(scimbridge.ENOTFOUND, "no such resource type"))
	}
}

func (s *Server) schemaDocs() []schemaDoc {
	return []schemaDoc{
		{
			Schemas:     []string{schemaSchema},
			ID:          scim.SchemaUser,
			Name:        "User",
			Description: "User Account",
			Attributes:  userAttributes,
			Meta:        meta{ResourceType: "Schema", Location: s.baseURL + "/Schemas/" + scim.SchemaUser},
		},
		{
			Schemas:     []string{schemaSchema},
			ID:          scim.SchemaEnterprise,
			Name:        "EnterpriseUser",
			Description: "Enterprise User",
			Attributes:  enterpriseAttributes,
			Meta:        meta{ResourceType: "Schema", Location: s.baseURL + "/Schemas/" + scim.SchemaEnterprise},
		},
		{
			Schemas:     []string{schemaSchema},
			ID:          scim.SchemaGroup,
			Name:        "Group",
			Description: "Group",
			Attributes:  groupAttributes,
			Meta:        meta{ResourceType: "Schema", Location: s.baseURL + "/Schemas/" + scim.SchemaGroup},
		},
	}
}

func (s *Server) handleSchemas(w http.ResponseWriter, r *http.Request) {
	docs := s.schemaDocs()
	s.writeDoc(w, r, docList(docs...))
}

func (s *Server) handleSchema(w http.ResponseWriter, r *http.Request) {
	for _, d := range s.schemaDocs() {
		if strings.EqualFold(d.ID, r.PathValue("urn")) {
			s.writeDoc(w, r, d)
			return
		}
	}
	s.writeError(w, r, scimbridge.Errorf(scimbridge.ENOTFOUND, "no such schema"))
}

// docList wraps discovery documents in a ListResponse.
func docList[T any](docs ...T) listResponse {
	l := listResponse{
		Schemas:      []string{scim.SchemaListResponse},
		TotalResults: len(docs),
		StartIndex:   1,
		ItemsPerPage: len(docs),
		Resources:    make([]json.RawMessage, 0, len(docs)),
	}
	for _, d := range docs {
		b, _ := json.Marshal(d)
		l.Resources = append(l.Resources, b)
	}
	return l
}

func (s *Server) writeDoc(w http.ResponseWriter, r *http.Request, doc any) {
	b, err := json.Marshal(doc)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeSCIM(w, http.StatusOK, b)
}
