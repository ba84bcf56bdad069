// Package sim runs many Bloom nodes in one process under a deterministic
// scheduler, over an in-process network that can lose, duplicate, reorder
// and delay messages and partition the nodes — all driven by seeds, so that
// every run can be repeated exactly.
//
// # The model
//
// A Cluster holds runtime.Node instances, each with its own address (its
// self()), its own runtime.VirtualClock and its own copy of a compiled plan
// (so that nodes may have facts of their own). The cluster owns virtual
// time. It advances in steps; one step at virtual time T
//
//  1. runs the callbacks scheduled (At, After) for T or earlier;
//  2. asks the Network for the messages due at T and hands them to their
//     destination nodes (runtime.Node.Deliver), in the order the network
//     gives;
//  3. ticks, in address order, every node that has work (facts, pending
//     changes, messages, inputs) or a periodic timer due at T, with its
//     clock set to T (plus the node's skew);
//  4. passes the messages each tick sent (Options.Send of the node) to the
//     Network, sorted canonically so that the network's random choices do
//     not depend on the engine's internal iteration order.
//
// The next step runs at the next event — a message becoming due, a timer,
// a scheduled callback — or one Quantum after this one if some node still
// has work (pending changes, messages to itself), whichever comes first;
// idle stretches are skipped. Nothing else moves time, and nothing is
// concurrent, so the whole run is a function of the programs, the inputs
// and the seeds.
// Messages sent in a step are never delivered in the same step, so the
// order in which nodes tick within a step does not matter.
//
// # Networks
//
// Network is the interface between the scheduler and message delivery:
// Send takes an Envelope when a node sends, Due returns the envelopes to
// deliver at a time. Net is the in-process network: each message takes
// Latency plus a seeded random Jitter (with Jitter > 0 messages overtake each
// other). FaultNetwork wraps any Network and injects seeded faults: Drop,
// Duplicate, Reorder (hold a message back so that later ones overtake it),
// Delay (hold every message back), Partition(groups...) and Heal, plus an
// arbitrary Filter.
//
// # Running
//
// Step runs one step. Run(until, maxSteps) steps until until() holds, or —
// with until == nil — until the cluster is quiescent (no node has work and
// no message is in flight; periodic timers alone do not keep a run going, as
// in `bloomc run`). RunFor(d) runs through d of virtual time, timers
// included, which is how programs with periodic retransmission or
// anti-entropy are driven to convergence. Converged(colls...) and
// Diff(colls...) compare collections across nodes; Fingerprint hashes the
// whole cluster's state.
//
// # Exploring orders
//
// The design is meant for a later `bloomc sim` that explores message
// orders: every random choice comes from the seeds of the Net and the
// FaultNetwork, Options.Trace reports every send, delivery, fault and tick
// (Event), Explore runs a trial per seed and groups the seeds by outcome,
// and a custom Network may pick the delivery order itself (for example
// deliver exactly one chosen in-flight message per step, for systematic or
// PCT-style exploration). A divergent seed found by Explore is replayed by
// running that seed again.
package sim
