package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/scimbridge/scimbridge"
)

const orgColumns = `id, slug, name, adopt_existing, created_at`

func scanOrg(s interface{ Scan(...any) error }) (scimbridge.Organization, error) {
	var o scimbridge.Organization
	err := s.Scan(&o.ID, &o.Slug, &o.Name, &o.AdoptExisting, timeDest{&o.CreatedAt})
	return o, err
}

// CreateOrganization inserts org; a taken slug is ECONFLICT.
func (db *DB) CreateOrganization(ctx context.Context, org scimbridge.Organization) error {
	_, err := db.exec(ctx, `INSERT INTO organizations (`+orgColumns+`) VALUES (?, ?, ?, ?, ?)`,
		org.ID, org.Slug, org.Name, org.AdoptExisting, db.tm(org.CreatedAt))
	if err != nil {
		return fmt.Errorf("create organization: %w", err)
	}
	return nil
}

// Organization returns the organization with id.
func (db *DB) Organization(ctx context.Context, id string) (scimbridge.Organization, error) {
	return db.orgWhere(ctx, `id = ?`, id)
}

// OrganizationBySlug returns the organization with slug.
func (db *DB) OrganizationBySlug(ctx context.Context, slug string) (scimbridge.Organization, error) {
	return db.orgWhere(ctx, `slug = ?`, slug)
}

func (db *DB) orgWhere(ctx context.Context, cond string, arg string) (scimbridge.Organization, error) {
	row, err := db.queryRow(ctx, `SELECT `+orgColumns+` FROM organizations WHERE `+cond, arg)
	if err != nil {
		return scimbridge.Organization{}, fmt.Errorf("read organization: %w", err)
	}
	o, err := scanOrg(row)
	if errors.Is(err, sql.ErrNoRows) {
		return o, notFound("organization")
	} else if err != nil {
		return o, fmt.Errorf("read organization: %w", err)
	}
	return o, nil
}

// Organizations lists every organization by slug.
func (db *DB) Organizations(ctx context.Context) ([]scimbridge.Organization, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+orgColumns+` FROM organizations ORDER BY slug`)
	if err != nil {
		return nil, fmt.Errorf("list organizations: %w", err)
	}
	defer rows.Close()
	var out []scimbridge.Organization
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, fmt.Errorf("list organizations: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list organizations: %w", err)
	}
	return out, nil
}

// SetAdoptExisting changes the organization's adopt_existing setting.
func (db *DB) SetAdoptExisting(ctx context.Context, orgID string, on bool) error {
	res, err := db.exec(ctx, `UPDATE organizations SET adopt_existing = ? WHERE id = ?`, on, orgID)
	if err != nil {
		return fmt.Errorf("set adopt_existing: %w", err)
	}
	return mustAffect(res, "organization")
}

// mustAffect is ENOTFOUND when res changed no row.
func mustAffect(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update %s: %w", what, err)
	}
	if n == 0 {
		return notFound(what)
	}
	return nil
}
