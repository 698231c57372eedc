package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"civicam/internal/registry"
)

// CreatePlaces stores places in one transaction: all of them, or none.
func (db *DB) CreatePlaces(ctx context.Context, ps []*registry.Place) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO places (id, name, place_category, lat, lon, polygon, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`)
		if err != nil {
			return fmt.Errorf("prepare places: %w", err)
		}
		defer stmt.Close()
		for _, p := range ps {
			poly := []byte("[]")
			if len(p.Polygon) > 0 {
				if poly, err = json.Marshal(p.Polygon); err != nil {
					return fmt.Errorf("place polygon: %w", err)
				}
			}
			if _, err := stmt.ExecContext(ctx, p.ID, p.Name, p.PlaceCategory, p.Lat, p.Lon, string(poly), Micros(p.CreatedAt)); err != nil {
				return fmt.Errorf("insert place: %w", err)
			}
		}
		return nil
	})
}

// Places lists the register of places by name.
func (db *DB) Places(ctx context.Context) ([]*registry.Place, error) {
	return queryAll(ctx, db.sql, "places", scanPlace, `SELECT id, name, place_category, lat, lon, polygon, created_at
		FROM places ORDER BY name, id`)
}

func scanPlace(s scanner) (*registry.Place, error) {
	var p registry.Place
	var poly string
	var created int64
	if err := s.Scan(&p.ID, &p.Name, &p.PlaceCategory, &p.Lat, &p.Lon, &poly, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(poly), &p.Polygon); err != nil {
		return nil, fmt.Errorf("place %s polygon: %w", p.ID, err)
	}
	if len(p.Polygon) == 0 {
		p.Polygon = nil
	}
	p.CreatedAt = FromMicros(created)
	return &p, nil
}
