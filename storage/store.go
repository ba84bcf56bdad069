package storage

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/skl"

	"github.com/bloomlang/bloom/compiler"
	"github.com/bloomlang/bloom/lang"
	"github.com/bloomlang/bloom/runtime"
	"github.com/bloomlang/bloom/stdlib"
)

// Options configure a Store. The zero value is a safe default.
type Options struct {
	// MemTableSize is badger's memtable size (default 64 MiB). It bounds
	// one tick's durable changes: a badger transaction holds at most 15%
	// of it (about 9.6 MiB, or roughly 100,000 keys, at the default).
	MemTableSize int64
	// MinFree is the free space the data directory's file system must
	// keep: a commit that would leave less fails cleanly. Badger writes
	// its log and tables through memory-mapped files, which cannot report
	// a full disk (the process gets SIGBUS), so the reserve must cover
	// what badger may write before the next commit: the next memtable,
	// its flush and a level-0 compaction. Default 4*MemTableSize + 16 MiB
	// (272 MiB); negative disables the check.
	MinFree int64
	// NoSync skips the fsync of each commit: a commit then survives a
	// crash of the process but not of the machine.
	NoSync bool
	// ReadOnly opens an existing store for reading only (bloomc data
	// dump); Commit fails. A store left by a crash needs badger's log
	// recovered first, which only a read-write open does: then, if the
	// directory is writable, it is opened read-write (recovering the log
	// exactly as a restarted node would) and still refuses commits.
	ReadOnly bool
	// Logger receives badger's warnings and errors; nil discards them.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.MemTableSize <= 0 {
		o.MemTableSize = 64 << 20
	}
	if o.MinFree == 0 {
		o.MinFree = 4*o.MemTableSize + 16<<20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Store is a node's durable state in a badger database; it implements
// runtime.Store. Every commit is one badger transaction.
type Store struct {
	dir  string
	opts Options
	db   *badger.DB
	meta meta
	// types of the program's durable collections, set by Load.
	types  map[string]*compiler.Coll
	closed bool
}

var _ runtime.Store = (*Store)(nil)

// Open opens the data directory dir, creating it (and an empty store)
// if it does not exist. Errors say what is wrong: the directory is used
// by another process, cannot be written, or is damaged or not a bloom
// data directory.
func Open(dir string, o Options) (*Store, error) {
	o = o.withDefaults()
	if err := prepareDir(dir, o.ReadOnly); err != nil {
		return nil, err
	}
	maxBatch := o.MemTableSize * 15 / 100
	bo := badger.DefaultOptions(dir).
		WithLogger(badgerLogger{o.Logger}).
		WithSyncWrites(!o.NoSync).
		WithReadOnly(o.ReadOnly).
		WithMemTableSize(o.MemTableSize).
		WithNumMemtables(2).
		// Few level-0 tables keep compactions (and the space they need
		// before they free any) small.
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(4).
		WithNumCompactors(2).
		WithBlockCacheSize(8 << 20).
		WithMetricsEnabled(false).
		WithDetectConflicts(false).
		WithValueThreshold(min(1<<20, maxBatch/2)).
		WithValueLogFileSize(64 << 20).
		WithChecksumVerificationMode(options.OnTableRead).
		WithVerifyValueChecksum(true)
	db, err := badger.Open(bo)
	if err != nil && o.ReadOnly && strings.Contains(err.Error(), badger.ErrTruncateNeeded.Error()) && checkWritable(dir) == nil {
		db, err = badger.Open(bo.WithReadOnly(false))
	}
	if err != nil {
		return nil, openError(dir, err)
	}
	s := &Store{dir: dir, opts: o, db: db}
	if err := s.readMeta(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// badgerFiles are the names badger creates in its directory.
func badgerFile(name string) bool {
	switch name {
	case "LOCK", "MANIFEST", "KEYREGISTRY", "DISCARD":
		return true
	}
	switch filepath.Ext(name) {
	case ".sst", ".vlog", ".mem":
		return true
	}
	return strings.HasPrefix(name, "MANIFEST") || strings.HasPrefix(name, "KEYREGISTRY")
}

func prepareDir(dir string, readOnly bool) error {
	if readOnly {
		st, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("data directory %s: %w", dir, errors.Unwrap(err))
		}
		if !st.IsDir() {
			return fmt.Errorf("data directory %s is not a directory", dir)
		}
		if _, err := os.Stat(filepath.Join(dir, "MANIFEST")); err != nil {
			return fmt.Errorf("data directory %s holds no stored state (no MANIFEST)", dir)
		}
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data directory %s: cannot create it: %w", dir, errors.Unwrap(err))
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("data directory %s: cannot read it: %w", dir, errors.Unwrap(err))
	}
	for _, e := range ents {
		if !badgerFile(e.Name()) {
			return fmt.Errorf("data directory %s is not empty and is not a bloom data directory (it holds %s); give a new or empty directory", dir, e.Name())
		}
	}
	if err := checkWritable(dir); err != nil {
		return fmt.Errorf("data directory %s cannot be written: %w", dir, err)
	}
	return nil
}

// openError turns badger's (flattened) open errors into clear ones.
func openError(dir string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "Cannot acquire directory lock"):
		return fmt.Errorf("data directory %s is in use by another process (is a node already running with --data %s?)", dir, dir)
	case strings.Contains(msg, "permission denied"):
		return fmt.Errorf("data directory %s: permission denied: %v", dir, err)
	case strings.Contains(msg, "read-only file system"):
		return fmt.Errorf("data directory %s is on a read-only file system: %v", dir, err)
	case strings.Contains(msg, "no space left"):
		return fmt.Errorf("data directory %s: disk full: %v", dir, err)
	}
	return fmt.Errorf("data directory %s cannot be opened: it is damaged or not a bloom data directory: %v", dir, err)
}

// readMeta reads the meta record; a new store gets one.
func (s *Store) readMeta() error {
	var raw []byte
	empty := true
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false})
		defer it.Close()
		it.Rewind()
		empty = !it.Valid()
		item, err := txn.Get([]byte(keyMeta))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		raw, err = item.ValueCopy(nil)
		return err
	})
	if err != nil {
		return s.damaged(err)
	}
	switch {
	case raw != nil:
		m, err := decodeMeta(raw)
		if err != nil {
			return s.damaged(fmt.Errorf("meta record: %w", err))
		}
		s.meta = m
	case !empty:
		return fmt.Errorf("data directory %s holds a badger database that bloom did not write (no meta record)", s.dir)
	default:
		s.meta = meta{version: metaVersion}
		if !s.opts.ReadOnly {
			if err := s.update(func(txn *badger.Txn) error { return txn.Set([]byte(keyMeta), encodeMeta(s.meta)) }); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Store) damaged(err error) error {
	return fmt.Errorf("data directory %s is damaged: %v", s.dir, err)
}

// update runs f in one read-write transaction and commits it.
func (s *Store) update(f func(txn *badger.Txn) error) error {
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	if err := f(txn); err != nil {
		return err
	}
	if err := txn.Commit(); err != nil {
		return s.writeError(err)
	}
	return nil
}

func (s *Store) writeError(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "no space left"):
		return fmt.Errorf("data directory %s: disk full: %v", s.dir, err)
	case strings.Contains(msg, "read-only file system"):
		return fmt.Errorf("data directory %s is on a read-only file system: %v", s.dir, err)
	}
	return fmt.Errorf("data directory %s: write failed: %v", s.dir, err)
}

// raw is everything stored, undecoded but for the meta record.
type raw struct {
	schemas map[string]*collSchema
	data    map[string][][2][]byte // collection -> (key, value) pairs
	pending []byte
}

func (s *Store) readAll() (*raw, error) {
	r := &raw{schemas: map[string]*collSchema{}, data: map[string][][2][]byte{}}
	var schemaBytes [][2][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 256})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			k := item.KeyCopy(nil)
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			switch ks := string(k); {
			case ks == keyMeta:
			case ks == keyPending:
				r.pending = v
			case strings.HasPrefix(ks, prefSchema):
				schemaBytes = append(schemaBytes, [2][]byte{k[len(prefSchema):], v})
			case strings.HasPrefix(ks, prefData):
				i := bytes.IndexByte(k, 0)
				if i < 0 {
					return fmt.Errorf("malformed data key %q", k)
				}
				name := string(k[len(prefData):i])
				r.data[name] = append(r.data[name], [2][]byte{k, v})
			default:
				return fmt.Errorf("unexpected key %q", k)
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.damaged(err)
	}
	for _, sb := range schemaBytes {
		sc, err := parseSchema(string(sb[0]), sb[1])
		if err != nil {
			return nil, s.damaged(err)
		}
		r.schemas[sc.name] = sc
	}
	for name, kvs := range r.data {
		if r.schemas[name] == nil {
			return nil, s.damaged(fmt.Errorf("%d tuples of %s but no schema for it", len(kvs), name))
		}
	}
	return r, nil
}

// decodeColl decodes a collection's tuples, checking that each is stored
// under its own key.
func (s *Store) decodeColl(sc *collSchema, kvs [][2][]byte) ([]runtime.Tuple, error) {
	out := make([]runtime.Tuple, 0, len(kvs))
	var kb []byte
	for _, kv := range kvs {
		t, err := decodeTuple(kv[1], sc.types)
		if err != nil {
			return nil, s.damaged(fmt.Errorf("a tuple of %s: %w", sc.name, err))
		}
		kb, err = appendDataKey(kb[:0], sc.name, sc.types, sc.Key, t)
		if err != nil || !bytes.Equal(kb, kv[0]) {
			return nil, s.damaged(fmt.Errorf("tuple %s is stored under a key that is not its own", stdlib.FormatTuple(sc.name, sc.types, t)))
		}
		out = append(out, t)
	}
	return out, nil
}

func (s *Store) pendingOf(r *raw) ([]runtime.PendingChange, error) {
	if r.pending == nil {
		return nil, nil
	}
	ps, err := decodePending(r.pending, func(name string) []*lang.Type {
		if sc := r.schemas[name]; sc != nil {
			return sc.types
		}
		return nil
	})
	if err != nil {
		return nil, s.damaged(fmt.Errorf("pending changes: %w", err))
	}
	return ps, nil
}

// Load implements runtime.Store: it checks the stored schema against the
// program's durable collections, records new (and renamed-column)
// schemas, drops the schemas of removed collections that hold no data,
// and returns the stored state.
func (s *Store) Load(plan *compiler.Plan) (*runtime.Snapshot, error) {
	r, err := s.readAll()
	if err != nil {
		return nil, err
	}
	pending, err := s.pendingOf(r)
	if err != nil {
		return nil, err
	}
	durable := map[string]*compiler.Coll{}
	for _, c := range plan.Colls {
		if c.Info.Durable {
			durable[c.Name] = c
		}
	}
	pendingBy := map[string]int{}
	for _, p := range pending {
		pendingBy[p.Coll]++
	}
	var problems []string
	var drop []string
	for _, name := range sortedNames(r.schemas) {
		sc := r.schemas[name]
		n, np := len(r.data[name]), pendingBy[name]
		if c := durable[name]; c != nil {
			// A changed declaration of a collection that holds nothing
			// cannot misread anything: its schema is just rewritten.
			if why := incompatibility(sc, c); why != "" && (n > 0 || np > 0) {
				problems = append(problems, fmt.Sprintf("%s: %s", sc.describe(), why))
			}
			continue
		}
		if n == 0 && np == 0 {
			drop = append(drop, name)
			continue
		}
		what := plural(n, "tuple")
		if np > 0 {
			what += " and " + plural(np, "pending change")
		}
		how := "no longer declares it"
		if c := plan.ByName[name]; c != nil {
			how = "declares it without durable"
		}
		problems = append(problems, fmt.Sprintf("%s: the store holds %s of it, but the program %s", sc.describe(), what, how))
	}
	if len(problems) > 0 {
		return nil, &SchemaError{Dir: s.dir, Problems: problems}
	}
	snap := &runtime.Snapshot{Tick: s.meta.tick, FactsDone: s.meta.factsDone, Colls: map[string][]runtime.Tuple{}, Pending: pending}
	for name, kvs := range r.data {
		ts, err := s.decodeColl(r.schemas[name], kvs)
		if err != nil {
			return nil, err
		}
		snap.Colls[name] = ts
	}
	// Record the schemas of the program's durable collections: new ones,
	// and ones whose column names changed.
	var write [][2][]byte
	for _, name := range sortedNames(durable) {
		b := schemaOf(durable[name]).encode()
		if old := r.schemas[name]; old == nil || !bytes.Equal(old.encode(), b) {
			write = append(write, [2][]byte{[]byte(prefSchema + name), b})
		}
	}
	if (len(write) > 0 || len(drop) > 0) && !s.opts.ReadOnly {
		err := s.update(func(txn *badger.Txn) error {
			for _, w := range write {
				if err := txn.Set(w[0], w[1]); err != nil {
					return err
				}
			}
			for _, name := range drop {
				if err := txn.Delete([]byte(prefSchema + name)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	s.types = durable
	return snap, nil
}

// SchemaError is a stored schema that the program's declarations
// contradict: the node must not start, or it would misread the data.
type SchemaError struct {
	Dir      string
	Problems []string
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("data directory %s does not fit the program:\n  %s\nThe stored data would be misread. Restore the declaration, or start afresh with another --data directory ('bloomc data dump %s' shows what is stored).",
		e.Dir, strings.Join(e.Problems, "\n  "), e.Dir)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// TxnTooBigError is a tick whose durable changes do not fit in one badger
// transaction; it is not committed (never split: that would not be
// atomic).
type TxnTooBigError struct {
	Tick         int64
	Keys         int
	Bytes        int64
	MemTableSize int64
}

func (e *TxnTooBigError) Error() string {
	limit := e.MemTableSize * 15 / 100
	return fmt.Sprintf("tick %d changes %d keys (%s) of durable state: more than one badger transaction holds with a %s memtable (about %s or %d keys); nothing was committed. Spread the writes over several ticks, or raise --data-memtable",
		e.Tick, e.Keys, mib(e.Bytes), mib(e.MemTableSize), mib(limit), limit/int64(skl.MaxNodeSize))
}

func mib(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
}

// Commit implements runtime.Store: one badger transaction with the
// tick's data changes, the pending changes (if they changed) and the
// meta record (tick counter, facts flag).
func (s *Store) Commit(c *runtime.TickCommit) error {
	switch {
	case s.closed:
		return errors.New("store is closed")
	case s.opts.ReadOnly:
		return errors.New("store is open read-only")
	case s.types == nil:
		return errors.New("Commit before Load")
	}
	// Keys and values are carved from one arena: badger keeps the slices
	// until the commit, and earlier slices stay valid when it grows.
	var arena []byte
	type entry struct {
		k, v []byte
		del  bool
	}
	entries := make([]entry, 0, len(c.Changes)+2)
	var size int64
	for _, ch := range c.Changes {
		start := len(arena)
		var err error
		arena, err = appendDataKey(arena, ch.Coll.Name, ch.Coll.Types, ch.Coll.Key, ch.Tuple)
		if err != nil {
			return fmt.Errorf("%s: %w", ch.Coll.Name, err)
		}
		e := entry{k: arena[start:len(arena):len(arena)], del: ch.Delete}
		if !ch.Delete {
			start = len(arena)
			if arena, err = appendTuple(arena, ch.Coll.Types, ch.Tuple); err != nil {
				return fmt.Errorf("%s: %w", ch.Coll.Name, err)
			}
			e.v = arena[start:len(arena):len(arena)]
		}
		size += int64(len(e.k) + len(e.v))
		entries = append(entries, e)
	}
	if c.PendingChanged {
		if len(c.Pending) == 0 {
			entries = append(entries, entry{k: []byte(keyPending), del: true})
		} else {
			b, err := encodePending(c.Pending, func(name string) []*lang.Type {
				if col := s.types[name]; col != nil {
					return col.Types
				}
				return nil
			})
			if err != nil {
				return err
			}
			entries = append(entries, entry{k: []byte(keyPending), v: b})
			size += int64(len(b))
		}
	}
	m := meta{version: metaVersion, tick: c.Tick, factsDone: c.FactsDone}
	entries = append(entries, entry{k: []byte(keyMeta), v: encodeMeta(m)})
	if err := s.checkSpace(size); err != nil {
		return err
	}
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	for _, e := range entries {
		var err error
		if e.del {
			err = txn.Delete(e.k)
		} else {
			err = txn.Set(e.k, e.v)
		}
		if err != nil {
			if errors.Is(err, badger.ErrTxnTooBig) {
				return &TxnTooBigError{Tick: c.Tick, Keys: len(entries), Bytes: size, MemTableSize: s.opts.MemTableSize}
			}
			return s.writeError(err)
		}
	}
	if err := txn.Commit(); err != nil {
		if errors.Is(err, badger.ErrTxnTooBig) {
			return &TxnTooBigError{Tick: c.Tick, Keys: len(entries), Bytes: size, MemTableSize: s.opts.MemTableSize}
		}
		return s.writeError(err)
	}
	s.meta = m
	return nil
}

// checkSpace fails when the commit would leave less than MinFree.
func (s *Store) checkSpace(size int64) error {
	if s.opts.MinFree < 0 {
		return nil
	}
	free, ok := freeSpace(s.dir)
	if !ok {
		return nil
	}
	// Badger writes the entries to its log, and later to a table.
	if need := s.opts.MinFree + 2*size; free < need {
		return fmt.Errorf("data directory %s: disk full: %s free, below the %s kept in reserve for badger's memory-mapped files (plus %s for this commit); nothing was committed. Free some space and restart",
			s.dir, mib(free), mib(s.opts.MinFree), mib(2*size))
	}
	return nil
}

// Close closes the database. Committed state is on disk already.
func (s *Store) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("data directory %s: close: %v", s.dir, err)
	}
	return nil
}

// Collection is a stored durable collection as Contents reads it, with
// its tuples in canonical (printing) order.
type Collection struct {
	Name    string
	Kind    string // "table" or "lattice"
	Columns []string
	Types   []*lang.Type
	Key     []int
	Tuples  []runtime.Tuple
}

// Contents is everything a store holds, read without the program.
type Contents struct {
	Tick      int64
	FactsDone bool
	Colls     []*Collection // by name
	Pending   []runtime.PendingChange
}

// Contents reads the whole store using its own schemas (bloomc data dump).
func (s *Store) Contents() (*Contents, error) {
	r, err := s.readAll()
	if err != nil {
		return nil, err
	}
	out := &Contents{Tick: s.meta.tick, FactsDone: s.meta.factsDone}
	if out.Pending, err = s.pendingOf(r); err != nil {
		return nil, err
	}
	for _, name := range sortedNames(r.schemas) {
		sc := r.schemas[name]
		ts, err := s.decodeColl(sc, r.data[name])
		if err != nil {
			return nil, err
		}
		slices.SortFunc(ts, func(a, b runtime.Tuple) int {
			for i, t := range sc.types {
				if c := stdlib.Compare(t, a[i], b[i]); c != 0 {
					return c
				}
			}
			return 0
		})
		col := &Collection{Name: name, Kind: sc.Kind, Types: sc.types, Key: sc.Key, Tuples: ts}
		for _, c := range sc.Columns {
			col.Columns = append(col.Columns, c.Name)
		}
		out.Colls = append(out.Colls, col)
	}
	return out, nil
}

// badgerLogger forwards badger's warnings and errors.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	b.l.Error("badger: " + strings.TrimSpace(fmt.Sprintf(f, a...)))
}

func (b badgerLogger) Warningf(f string, a ...any) {
	b.l.Warn("badger: " + strings.TrimSpace(fmt.Sprintf(f, a...)))
}

func (b badgerLogger) Infof(f string, a ...any) {
	b.l.Debug("badger: " + strings.TrimSpace(fmt.Sprintf(f, a...)))
}

func (b badgerLogger) Debugf(string, ...any) {}
