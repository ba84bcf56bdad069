// Package repl is the interactive Bloom session behind `bloomc repl`: type
// declarations, facts and rules at a prompt, run the program tick by tick
// and look at its collections, now and in earlier ticks.
//
// A Session holds the program typed so far as a list of statements, each
// with the file and position it came from. Input arrives a line at a time
// (Session.Line); a statement ends at its `;` and may span lines, and a
// line starting with `:` is a command (:help lists them). Every new
// statement is checked together with the whole program (the statements are
// laid out as one file, and every error position, including positions
// inside messages, is mapped back to where the offending text was typed or
// read), so errors point at the right line and column of the input.
//
// A fact for an `input` collection is not part of the program: it is
// queued for the next tick, as an input from outside would be.
//
// State across program changes: the session records every tick it runs
// (the virtual clock time at its start and the inputs queued for it). When
// the program changes, a new runtime.Node is built for the new plan and the
// recorded ticks are replayed on it. The state is thus always the state
// the current program reaches from tick 1 on the same inputs: exactly what
// `bloomc run` of the :save-d program with those inputs computes. A new
// fact therefore holds from tick 1 and a dropped rule's consequences
// disappear. Replaying, rather than copying the tables into a new node,
// also carries what a copy would lose: the changes a tick queued for the
// next one (<+ <- <+-), messages a node sent itself and the periodic
// timers. The price is time proportional to the ticks run so far. If a
// replayed tick that succeeded before now fails (a key constraint violation
// caused by the new statement), the statement is rejected and the session
// is unchanged.
//
// A Remote is the other kind of session (bloomc repl --connect): attached
// to a running node through a transport.Client, it sends typed facts for
// the node's input collections and prints the outputs it watches.
//
// Sessions know nothing about terminals: Run drives it, with
// github.com/chzyer/readline when stdin and stdout are terminals (line
// editing, a persistent history, completion of commands, collection names
// and keywords) and with plain buffered lines otherwise (no prompt, no
// colour, exit status 1 when anything failed).
package repl
