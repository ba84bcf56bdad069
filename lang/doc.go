// Package lang is the front end of the Bloom language: it turns .bloom
// source files into a checked Program that the compiler consumes.
//
//   - The lexer (lexer.go) tokenises source; it keeps comments for the
//     formatter and splits `<-` into `<` `-` where a rule operator cannot
//     occur, so `x<-1` is a comparison.
//   - The parser (ParseFile) builds the AST of ast.go: a File of module,
//     import, declaration and rule statements, with positions on every
//     node. Errors are an ErrorList of FILE:LINE:COL diagnostics.
//   - The printer (Format, RuleString, ExprString) writes the canonical
//     layout used by `bloomc fmt`; Dump renders the AST for golden tests.
//   - The checker resolves names and types. A Loader (Load, LoadSource)
//     reads the root file and the modules it imports, relative to the
//     importing file or from the standard library ("std/NAME"); CheckFile
//     and Check are shortcuts. The result is a Program (program.go): the
//     collections with resolved types (*Type, types.go) and qualified
//     names, and every rule with its atoms in column order, the type of
//     each variable and expression, and its aggregates. Any error makes the
//     result nil and the error an ErrorList holding all the errors of all
//     files, sorted by position.
//
// The type rules are documented on Assignable (what fits a column) and in
// check_expr.go (operators and comparisons); the built-in functions and
// aggregates are listed by FuncNames and AggregateNames, with signatures in
// their Builtin.Sig.
package lang
