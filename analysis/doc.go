// Package analysis is the CALM analysis behind `bloomc lint`: it finds every
// place where a Bloom program needs coordination, and proves the rest
// coordination-free.
//
// The CALM theorem (Consistency As Logical Monotonicity) says that a
// program whose outcome only grows as its inputs grow (a monotone program)
// is eventually consistent without any coordination: messages may arrive in
// any order, at any time, and every node still ends up with the same
// result. The analysis therefore looks for the constructs that are not
// monotone, and asks of each whether data that arrives asynchronously (a
// channel) can reach it.
//
// # What it computes
//
// Analyze takes a compiled plan (the whole program: the root file and every
// imported module, whose collections carry qualified names such as "m.log")
// and returns a Report with:
//
//   - a label for every rule edge of the dependency graph (Plan.Graph.Edges,
//     index for index): monotone, or non-monotone with the constructs that
//     make it so;
//   - the channel dependence of every collection: which channels reach it
//     through any path and any edge kind, including next-tick (<+) cycles,
//     deletions, upserts and asynchronous sends, and across modules;
//   - the non-monotone points, each with a verdict: Local (fed only by
//     local data: deterministic, no coordination needed), PointOfOrder (its
//     non-monotone input depends on a channel) or Acknowledged (a point of
//     order in a rule marked @coordinated("reason"));
//   - the races (unguarded asynchrony): a same-tick join in which transient
//     channel data meets other channel-dependent data.
//
// # Non-monotone constructs
//
// Following spec section 7 and Bloom^L:
//
//	negation            not rel(...)                  input: the negated collection
//	aggregate           count sum min max avg argmin argmax in a head
//	                                                  input: every body atom
//	deletion            <-                            input: the body and the head collection
//	upsert              <+-                           input: the body and the head collection
//	value               value(l), or any scalar function applied to a lattice
//	                                                  input: the atoms that bind its variables
//	now                 now()                         input: every body atom
//	key-constraint      a rule writing a keyed collection whose non-key columns
//	                    are not all lattices (a second tuple with the same key
//	                    fails the tick)               input: the rule's body
//	lattice-comparison  a comparison of a lattice value that is not a threshold
//	                    (size(s) < 3, value-like == and !=, a join on a lattice
//	                    variable, !has(...))          input: the atoms that bind the lattice
//
// Monotone, and so never reported: joins, projections, selections, unions,
// recursion, lattice merges, set(), size(), has(), at(), the thresholds
// l >= c and l > c on lmax and lcounter (l <= c, l < c on lmin) and l + c,
// l - c on lmax and lmin. The type checker marks a threshold by giving the
// comparison the type lbool; every other comparison that involves a lattice
// gives bool and is reported here.
//
// # Races
//
// A collection carries message data when it is a channel, or a transient
// collection (scratch, input, output) filled from message data in the same
// or the previous tick. A rule whose body joins a message-carrying atom with
// any other positive atom whose collection depends on a channel has a race:
// what the join produces depends on which messages had arrived by that
// tick. The join is guarded when every channel-dependent side is a table or
// a lattice, which accumulates messages whatever tick they arrive in. The
// remedy is exactly that: persist the request (pending(c, s, n) <=
// checkout(_, c, s, n)) and join the table.
//
// A @coordinated("reason") annotation on a rule acknowledges its points of
// order and races: they are still reported, as acknowledged, but do not
// make the program fail the lint.
//
// # Output
//
// WriteText prints the compiler-style report of `bloomc lint`, WriteJSON
// the stable JSON document described in docs/lint-schema.md (and by the JSON
// Schema docs/lint-schema.json), WriteSARIF a SARIF 2.1.0 log for GitHub
// code scanning (rules BLOOM000 compile-error, BLOOM001 point-of-order,
// BLOOM002 race, BLOOM003 acknowledged).
package analysis
