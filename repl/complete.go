package repl

import (
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bloomlang/bloom/lang"
)

// keywords are the language's keywords and type names, for completion.
var keywords = []string{
	"module", "import", "as", "table", "durable", "scratch", "input", "output",
	"channel", "periodic", "lattice", "key", "every", "not", "true", "false",
	"int", "float", "string", "bool", "addr", "time", "bytes",
	"lmax", "lmin", "lbool", "lset", "lmap", "lcounter", "lpair",
}

// Complete returns the completions of the word that ends at byte offset pos
// of line, and the length in bytes of that word (the part the completions
// replace). At the start of a line that begins with `:` it completes
// command names; in a command's arguments, collection or file names; in a
// statement, keywords, type names, built-in functions and the names of the
// program's collections.
func (s *Session) Complete(line string, pos int) (words []string, prefixLen int) {
	pos = min(max(pos, 0), len(line))
	before := line[:pos]
	trimmed := strings.TrimLeft(before, " \t")
	if strings.HasPrefix(trimmed, ":") && s.pendState != inBlockComment {
		fields := strings.Fields(trimmed)
		atWordEnd := !strings.HasSuffix(trimmed, " ") && !strings.HasSuffix(trimmed, "\t")
		if len(fields) == 1 && atWordEnd {
			prefix := fields[0]
			for _, c := range commands {
				if strings.HasPrefix(":"+c.name, prefix) {
					words = append(words, ":"+c.name+" ")
				}
			}
			return words, len(prefix)
		}
		c := lookupCommand(strings.TrimPrefix(fields[0], ":"))
		if c == nil {
			return nil, 0
		}
		prefix := ""
		if atWordEnd {
			prefix = fields[len(fields)-1]
		}
		nth := len(fields) - 1 // index of the argument being completed
		if !atWordEnd {
			nth++
		}
		switch c.arg {
		case argColl:
			if nth == 1 {
				return matching(s.collNames(), prefix), len(prefix)
			}
		case argCommand:
			if nth == 1 {
				var names []string
				for _, c := range commands {
					names = append(names, c.name)
				}
				return matching(names, prefix), len(prefix)
			}
		case argFile, argBloomFile:
			return completeFile(prefix, c.arg == argBloomFile), len(prefix)
		}
		return nil, 0
	}
	i := len(before)
	for i > 0 && isWordByte(before[i-1]) {
		i--
	}
	prefix := before[i:]
	if prefix == "" {
		// Nothing typed: offer the collections, not every keyword.
		return s.collNames(), 0
	}
	var all []string
	all = append(all, keywords...)
	all = append(all, lang.FuncNames()...)
	all = append(all, lang.AggregateNames()...)
	all = append(all, s.collNames()...)
	return matching(all, prefix), len(prefix)
}

func isWordByte(c byte) bool {
	return c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// matching returns the sorted, distinct names that start with prefix.
func matching(names []string, prefix string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// completeFile completes a file path: directories (with a trailing /)
// and files, only .bloom files when bloomOnly.
func completeFile(prefix string, bloomOnly bool) []string {
	dir, base := filepath.Split(prefix)
	list := dir
	if list == "" {
		list = "."
	}
	ents, err := os.ReadDir(list)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, base) || strings.HasPrefix(name, ".") && !strings.HasPrefix(base, ".") {
			continue
		}
		switch {
		case e.IsDir():
			out = append(out, dir+name+"/")
		case !bloomOnly || strings.HasSuffix(name, ".bloom"):
			out = append(out, dir+name)
		}
	}
	slices.Sort(out)
	return out
}
