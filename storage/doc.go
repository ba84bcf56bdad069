// Package storage keeps the durable collections of a Bloom node (`durable
// table`, `durable lattice`) in a badger database, so that they survive
// process crashes and restarts. *Store implements runtime.Store:
//
//	st, err := storage.Open(dir, storage.Options{})
//	info, err := node.UseStore(st) // checks the schema, restores the state
//	... node.Tick() ...            // each tick commits before it publishes
//	node.CloseStore()
//
// Each tick that changes durable state is one badger transaction holding
// the changed tuples, the pending next-tick changes to durable collections
// and the tick counter, written (and, unless Options.NoSync, synced) before
// the tick publishes outputs, sends messages or acknowledges a client: what
// a node has shown it never forgets. Non-durable collections stay in
// memory. The stored schema is checked at start (Load); an incompatible
// change is a *SchemaError.
//
// The on-disk layout and value encoding are documented in docs/storage.md.
package storage
