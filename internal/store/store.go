// Package store opens balcao's database — an embedded SQLite file by default, PostgreSQL
// to scale out — and gives the domain packages one way to query both: SQL written with
// `?` placeholders, explicit transactions, and the few dialect differences in one place.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrNotFound is returned when a row that was asked for by its key does not exist.
var ErrNotFound = errors.New("not found")

// Dialect names the SQL engine behind a DB.
type Dialect int

const (
	SQLite Dialect = iota + 1
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// DB is the database: a pool for writes and one for reads. On SQLite the write pool has a
// single connection, so writers queue in Go instead of failing with SQLITE_BUSY, while
// readers run beside them thanks to WAL.
type DB struct {
	dialect Dialect
	write   *sql.DB
	read    *sql.DB
	// Prepared statements, on SQLite only: pgx keeps its own per connection.
	writeStmts, readStmts *stmtCache
}

// Open opens the database named by dsn: a postgres:// or postgresql:// URL selects
// PostgreSQL; anything else is taken as the path of a SQLite file.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return OpenPostgres(ctx, dsn)
	}
	return OpenSQLite(ctx, dsn)
}

// OpenSQLite opens (creating if needed) the SQLite file at path.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	pragmas := []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(ON)"}
	q := url.Values{"_pragma": pragmas}
	q.Set("_txlock", "immediate")
	write, err := sql.Open("sqlite", "file:"+abs+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	// The writer connects first so that journal_mode=WAL is in place before readers open.
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	rq := url.Values{"_pragma": append(pragmas[:1:1], "foreign_keys(ON)", "query_only(1)")}
	read, err := sql.Open("sqlite", "file:"+abs+"?"+rq.Encode())
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)
	return &DB{dialect: SQLite, write: write, read: read, writeStmts: newStmtCache(write), readStmts: newStmtCache(read)}, nil
}

// OpenPostgres connects to the PostgreSQL server at url.
func OpenPostgres(ctx context.Context, url string) (*DB, error) {
	pool, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	pool.SetMaxOpenConns(32)
	pool.SetMaxIdleConns(32)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return &DB{dialect: Postgres, write: pool, read: pool}, nil
}

// Dialect tells which engine this is.
func (db *DB) Dialect() Dialect { return db.dialect }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", db.dialect, err)
	}
	return nil
}

// Close closes both pools.
func (db *DB) Close() error {
	db.writeStmts.close()
	db.readStmts.close()
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Queryer is what both a DB and a Tx offer to the domain packages.
type Queryer interface {
	Exec(ctx context.Context, query string, args ...any) (sql.Result, error)
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
}

// Exec runs a statement outside any transaction.
func (db *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	query = db.dialect.rebind(query)
	if st := db.writeStmts.prepared(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return db.write.ExecContext(ctx, query, args...)
}

// Query reads through the read pool.
func (db *DB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query = db.dialect.rebind(query)
	if st := db.readStmts.prepared(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return db.read.QueryContext(ctx, query, args...)
}

// QueryRow reads one row through the read pool.
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	query = db.dialect.rebind(query)
	if st := db.readStmts.prepared(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.read.QueryRowContext(ctx, query, args...)
}

// Tx is a transaction on the write pool.
type Tx struct {
	tx          *sql.Tx
	dialect     Dialect
	afterCommit []func()
	stmts       *stmtCache
	unprepared  []string // statements run without a prepared form, to prepare after
}

// Dialect tells which engine this is.
func (tx *Tx) Dialect() Dialect { return tx.dialect }

// Exec runs a statement in the transaction.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	query = tx.dialect.rebind(query)
	if st := tx.stmts.get(query); st != nil {
		// Runs the form already prepared on the write connection, which the transaction holds.
		return tx.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	if tx.stmts != nil {
		tx.unprepared = append(tx.unprepared, query)
	}
	return tx.tx.ExecContext(ctx, query, args...)
}

// Query reads in the transaction.
func (tx *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.tx.QueryContext(ctx, tx.dialect.rebind(query), args...)
}

// QueryRow reads one row in the transaction.
func (tx *Tx) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return tx.tx.QueryRowContext(ctx, tx.dialect.rebind(query), args...)
}

// AfterCommit registers f to run once the transaction has committed, so that events
// announce only what is durable. It is dropped if the transaction rolls back.
func (tx *Tx) AfterCommit(f func()) { tx.afterCommit = append(tx.afterCommit, f) }

// maxAttempts bounds the retries of a transaction that PostgreSQL aborted to resolve a
// conflict (serialization failure or deadlock); such aborts are expected under load.
const maxAttempts = 8

// InTx runs fn in a transaction, commits if fn returns nil and rolls back otherwise. A
// transaction the engine aborted because of a conflict with another one is run again.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	var err error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		err = db.inTxOnce(ctx, fn)
		if err == nil || !isRetryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt) * time.Millisecond):
		}
	}
	return err
}

func (db *DB) inTxOnce(ctx context.Context, fn func(tx *Tx) error) error {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{tx: sqlTx, dialect: db.dialect, stmts: db.writeStmts}
	// Statements can only be prepared on the write pool once the transaction has let go
	// of its connection (SQLite's write pool has just the one).
	defer func() {
		for _, q := range tx.unprepared {
			db.writeStmts.prepared(ctx, q)
		}
	}()
	if err := fn(tx); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	for _, f := range tx.afterCommit {
		f()
	}
	return nil
}

func isRetryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	var sqliteErr *sqlite.Error
	if errors.As(err, &sqliteErr) {
		return sqliteErr.Code()&0xff == sqlite3.SQLITE_BUSY
	}
	return false
}

// IsUniqueViolation tells whether err is a primary-key or unique constraint violation.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqliteErr *sqlite.Error
	if errors.As(err, &sqliteErr) {
		code := sqliteErr.Code()
		return code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || code == sqlite3.SQLITE_CONSTRAINT_UNIQUE
	}
	return false
}

// IsForeignKeyViolation tells whether err is a foreign key refusing a write: a row
// still referred to, or a reference to a row that is gone.
func IsForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23503"
	}
	var sqliteErr *sqlite.Error
	if errors.As(err, &sqliteErr) {
		return sqliteErr.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

var rebound sync.Map // query text -> PostgreSQL form

// rebind turns `?` placeholders into PostgreSQL's `$n`. Queries in balcao never hold a
// literal question mark, so a plain scan is enough.
func (d Dialect) rebind(query string) string {
	if d != Postgres || !strings.Contains(query, "?") {
		return query
	}
	if q, ok := rebound.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	rebound.Store(query, b.String())
	return b.String()
}

var idEncoding = base32.NewEncoding("abcdefghijkmnpqrstuvwxyz23456789").WithPadding(base32.NoPadding)

// NewID returns a random identifier (80 bits, 16 characters, no look-alike letters) for
// rows whose ids appear in URLs, where counting ids would reveal activity.
func NewID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return idEncoding.EncodeToString(b)
}

// maxStmts bounds a statement cache; once it is full, other statements run unprepared.
const maxStmts = 512

// stmtCache keeps prepared statements by query text, so that SQLite parses and plans each
// statement once per connection rather than on every call. A nil cache holds nothing.
//
// On the write pool only Tx.Exec uses it inside transactions (through Tx.StmtContext,
// which reuses the form prepared on the connection): an Exec runs to completion, so one
// statement is never stepped twice at once, as a query run again while its own rows were
// still open in the same transaction would be.
type stmtCache struct {
	pool  *sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func newStmtCache(pool *sql.DB) *stmtCache {
	return &stmtCache{pool: pool, stmts: map[string]*sql.Stmt{}}
}

// get returns the prepared statement for query, or nil if there is none yet.
func (c *stmtCache) get(query string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stmts[query]
}

// prepared returns the prepared statement for query, preparing it on the pool if needed.
// It returns nil, for the caller to run the query unprepared, when the cache is full or
// the statement does not prepare (the unprepared run then reports the error).
func (c *stmtCache) prepared(ctx context.Context, query string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	st, ok := c.stmts[query]
	full := len(c.stmts) >= maxStmts
	c.mu.Unlock()
	if ok || full {
		return st
	}
	st, err := c.pool.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cached, ok := c.stmts[query]; ok || len(c.stmts) >= maxStmts {
		st.Close()
		return cached
	}
	c.stmts[query] = st
	return st
}

func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		st.Close()
		delete(c.stmts, q)
	}
}
