// Package glob owns what a path pattern matches: the patterns of
// `extract -o DIR REFERENCE PATTERN...` and `pack --exclude PATTERN`, with
// one meaning for both, that of .gitignore lines
// (https://git-scm.com/docs/gitignore, "PATTERN FORMAT").
//
// A pattern is matched against slash-separated names relative to a root
// (a layer's entry names, or the names below a PATH given to pack), on
// every OS:
//
//   - `*` matches any run of characters but "/", `?` one character but
//     "/", `[abc]`, `[a-z]` and `[!a]` one of a class, `{a,b}` either
//     alternative, and `\` escapes the next character;
//   - `**` as a whole element matches any number of elements, none
//     included: `docs/**` is docs and everything below it, `**/*.txt`
//     every .txt;
//   - a pattern without a "/" (but at its end) matches at any depth, as in
//     .gitignore: `*.log` matches `a/b/c.log`; with one it is anchored at
//     the root (a leading "/" only anchors: `/app` is `app` at the root);
//   - a pattern that matches a directory matches everything below it
//     (`bin` selects bin/app); a trailing "/" matches directories only.
//
// Set selects a name when any of its patterns does (extract); Excludes
// leaves one out when the last of its patterns that matches it does not
// start with `!` (pack --exclude: `!keep.log` takes back what `*.log` left
// out, as in .gitignore).
//
// Matching is bmatcuk/doublestar's (https://github.com/bmatcuk/doublestar),
// which implements the element rules above; this package adds the
// .gitignore rules on top of it.
package glob
