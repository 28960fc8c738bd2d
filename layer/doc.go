// Package layer owns the layers of a bundle as tar streams: what an entry
// of a layer may be (the judge, Judge) and how a layer is applied to a
// directory (the applier, Applier). pack asks the judge about the headers
// it is about to write, verify --deep asks it about every entry it reads,
// and extract applies layers through the applier, which asks it too: the
// three agree because there is one set of rules.
//
// The rules (README, "Layer rules"):
//   - Names are local, canonical slash paths (an optional leading "./" and a
//     directory's trailing "/" aside): no absolute name, no "..", "." or
//     empty component, no backslash, no NUL. The root entry ("./") must be
//     a directory.
//   - Types: regular files, directories, symlinks and hard links. Devices,
//     FIFOs, sparse files and unknown types are refused.
//   - A symlink's target is resolved from the link's directory through the
//     links seen so far; a target that leaves the root is refused. In an
//     artifact layer an absolute target is refused; in an image layer
//     (a manifest with an image config) it is kept as written and resolved
//     from the image root, as umoci and containerd do. Options.AllowOutsideLinks
//     keeps refused targets as they are (Entry.Kept says so). No entry is
//     ever reached through a symlink, so nothing is written through one.
//   - A hard link names a regular file earlier in the layer or, in an image
//     layer, one a lower layer left (not a symlink or a directory, not
//     removed since, reached through directories only): the applier checks
//     the tree it writes, CheckImage the layers below; the judge alone
//     takes a name the layer does not have for a lower layer's file.
//   - Whiteouts (".wh.") only in image layers; no name twice in a layer;
//     in an artifact, every entry is the layer's title or below it, and no
//     name twice in the tree all its layers write (one judge for them all:
//     the applier's, and CheckArtifact's when titles nest).
//   - Portability (NameRules, Names): names Windows or macOS cannot hold
//     (device names, characters Windows forbids, a trailing dot or space,
//     not UTF-8) or hold as one file (differing only in case or in Unicode
//     normalization). The applier refuses them under the rule set of the
//     OS it writes on (ApplyOptions.Names); verify --deep warns about them
//     on every OS.
//   - Size (ContentLimit): a layer decompresses to at most its declared
//     size (io.ocibundle.content.size) or, without one, a cap (by default
//     100 times its compressed size, 1 to 16 GiB); a file declaring more is
//     refused (Options.MaxSize), a stream past it is ErrTooLarge.
//   - Depth: none; the applier reaches each entry through the directories
//     it holds open from the one before (dirChain), the judge checks only
//     the components an entry adds.
//
// The package is a leaf: it imports the standard library,
// golang.org/x/sys/unix (for the *at system calls the applier needs),
// golang.org/x/text (case folding and Unicode normalization, for the
// portability rules) and the leaves countio (the one counting reader) and
// units (byte sizes in messages).
package layer
