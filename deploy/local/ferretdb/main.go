// Command ferretdb runs an embedded FerretDB (MongoDB wire protocol) for local development and tests,
// on SQLite (files in a directory) or on PostgreSQL (a cluster deploy/local/infra.py starts).
//
// Usage: ferretdb -listen 127.0.0.1:27017 -dir /path/to/state/
//
//	ferretdb -listen 127.0.0.1:27017 -backend postgresql -postgresql-url postgres://user@host:port/ferretdb
package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite" // the driver FerretDB uses; registered as "sqlite"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	backend := flag.String("backend", "sqlite", "sqlite or postgresql")
	dir := flag.String("dir", "", "existing directory for the SQLite databases (sqlite)")
	pgURL := flag.String("postgresql-url", "", "PostgreSQL connection string (postgresql)")
	flag.Parse()
	config := &ferretdb.Config{Listener: ferretdb.ListenerConfig{TCP: *listen}, Handler: *backend}
	switch *backend {
	case "sqlite":
		if *dir == "" {
			log.Fatal("-dir is required")
		}
		if err := os.MkdirAll(*dir, 0o700); err != nil {
			log.Fatal(err)
		}
		config.SQLiteURL = "file:" + strings.TrimSuffix(*dir, "/") + "/"
	case "postgresql":
		if *pgURL == "" {
			log.Fatal("-postgresql-url is required")
		}
		config.PostgreSQLURL = *pgURL
	default:
		log.Fatalf("-backend %q: want sqlite or postgresql", *backend)
	}
	// FerretDB traces every PostgreSQL query through its logger; at warning level that costs nothing
	config.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	f, err := ferretdb.New(config)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Printf("ferretdb listening on %s, %s backend", *listen, *backend)
	if *backend == "sqlite" {
		go keepIDIndexes(ctx, *dir)
	} else {
		go keepContainmentIndexes(ctx, *pgURL)
	}
	f.Run(ctx)
}

// keepIDIndexes gives every collection table an index on the exact expression FerretDB's SQLite backend
// filters "_id" with (_ferretdb_sjson->'$._id'). FerretDB v1.24 indexes _id as _ferretdb_sjson->"_id",
// which SQLite does not match to that expression, so without this every find, update and delete by _id
// scans the whole table (its cost grows with the collection). The extra index is invisible to clients
// (FerretDB's metadata does not list it) and goes away with its table.
func keepIDIndexes(ctx context.Context, dir string) {
	for {
		files, _ := filepath.Glob(filepath.Join(dir, "*.sqlite"))
		for _, file := range files {
			if err := indexTables(ctx, file); err != nil && ctx.Err() == nil {
				log.Printf("id index keeper: %s: %v", file, err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// indexTables creates the missing _id path indexes of one database file.
func indexTables(ctx context.Context, file string) error {
	db, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)&mode=rw")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT c.table_name FROM _ferretdb_collections c
		WHERE NOT EXISTS (SELECT 1 FROM sqlite_master m WHERE m.type = 'index' AND m.name = c.table_name || '__id_path')`)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil // a database FerretDB is still creating
		}
		return err
	}
	var tables []string
	for rows.Next() {
		var table string
		if err := rows.Scan(&table); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, table)
	}
	rows.Close()
	for _, table := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, table+"__id_path", table)
		if _, err := db.ExecContext(ctx, q); err != nil && !strings.Contains(err.Error(), "no such table") {
			return err // (a table dropped meanwhile is fine)
		}
	}
	return nil
}

// keepContainmentIndexes gives every field FerretDB's PostgreSQL backend indexes a GIN index it can use.
// FerretDB v1.24 indexes a field as a btree on (_jsonb -> 'field') but filters equality as
// _jsonb -> 'field' @> value, which a btree cannot answer, so without this every find, update and delete
// (by _id too) scans its whole table: the "6 ms floor" at 20,000 documents, growing with the collection.
// A GIN index (jsonb_path_ops) on the same expression answers @> (also for arrays holding the value, as
// MongoDB matches them). It is invisible to clients and goes away with its table. The server must plan each
// execution for its parameters (plan_cache_mode=force_custom_plan): FerretDB's prepared statements pass the
// field name as a parameter, which a generic plan cannot match to an index.
func keepContainmentIndexes(ctx context.Context, url string) {
	var pool *pgxpool.Pool
	for pool == nil {
		p, err := pgxpool.New(ctx, url)
		if err == nil {
			pool = p
			break
		}
		log.Printf("containment index keeper: %v", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
	defer pool.Close()
	for {
		if err := indexFields(ctx, pool); err != nil && ctx.Err() == nil {
			log.Printf("containment index keeper: %v", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

var indexedField = regexp.MustCompile(`^\(_jsonb -> '([^']+)'::text\)$`)

// indexFields creates the missing GIN indexes for the top-level fields of FerretDB's btree indexes.
func indexFields(ctx context.Context, pool *pgxpool.Pool) error {
	rows, err := pool.Query(ctx, `SELECT n.nspname, c.relname, pg_get_indexdef(i.indexrelid, k, true),
			EXISTS (SELECT 1 FROM pg_class g WHERE g.relnamespace = n.oid AND g.relname = 'medsupport_gin_' ||
				left(encode(sha256(convert_to(c.relname || '/' || pg_get_indexdef(i.indexrelid, k, true), 'UTF8')), 'hex'), 24))
		FROM pg_index i
		JOIN pg_class c ON c.oid = i.indrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_class ic ON ic.oid = i.indexrelid
		JOIN pg_am am ON am.oid = ic.relam
		CROSS JOIN generate_series(1, i.indnatts) k
		WHERE am.amname = 'btree' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')`)
	if err != nil {
		return err
	}
	type field struct{ schema, table, expr string }
	var missing []field
	for rows.Next() {
		var f field
		var exists bool
		if err := rows.Scan(&f.schema, &f.table, &f.expr, &exists); err != nil {
			rows.Close()
			return err
		}
		if !exists && indexedField.MatchString(f.expr) {
			missing = append(missing, f)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, f := range missing {
		sum := sha256.Sum256([]byte(f.table + "/" + f.expr))
		name := fmt.Sprintf("medsupport_gin_%x", sum[:12])
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q.%q USING gin (%s jsonb_path_ops)`, name, f.schema, f.table, f.expr)
		if _, err := pool.Exec(ctx, q); err != nil && !strings.Contains(err.Error(), "does not exist") {
			return err // (a collection dropped meanwhile is fine)
		}
	}
	return nil
}
