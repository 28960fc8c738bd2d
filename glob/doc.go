// Package glob is the one matcher of path patterns in ocibundle: pack
// --exclude and the PATTERN arguments of extract both parse their globs
// here, so a pattern means the same thing everywhere.
//
// Names are slash-separated and relative (a tar entry name, a path below a
// PATH argument), on every OS. The syntax is github.com/bmatcuk/doublestar/v4's:
// `*` any run of characters within one path element, `?` one character other
// than `/`, `**` as a whole element any number of elements (none included),
// `[abc]`, `[a-z]`, `[^a]` character classes, `{a,b}` alternatives, `\`
// escapes the character after it.
//
// Excludes adds the rules of .gitignore on top (https://git-scm.com/docs/gitignore,
// "PATTERN FORMAT"): a pattern with no `/` but a trailing one matches at any
// depth, otherwise it is anchored at the root; a trailing `/` matches
// directories only; `!` re-includes; the last pattern that matches decides.
package glob
