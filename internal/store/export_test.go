package store

import "context"

// OpenUntil opens the database with its schema migrated only up to and including version, for
// tests of the migrations after it.
func OpenUntil(ctx context.Context, cfg Config, version string) (*DB, error) {
	return open(ctx, cfg, version)
}
