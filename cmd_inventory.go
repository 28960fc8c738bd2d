package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/ocibundle/ocibundle/bundle"
)

// inventoryCommand is `ocibundle inventory`.
func inventoryCommand() *cli.Command {
	return &cli.Command{
		Name:      "inventory",
		Usage:     "record what a layout holds (every blob that verifies, every tag) for export --since; prints the inventory's sha256",
		ArgsUsage: "LAYOUT | ARCHIVE | - | FILE.sha256 | PARTS...",
		Flags: []cli.Flag{
			stringFlag("output", "o", "", "the inventory file to write"),
			jsonFlag(),
		},
		Action: inventoryAction,
	}
}

func inventoryAction(c *cli.Context) error {
	out := c.String("output")
	if out == "" {
		return usagef("inventory: -o FILE is required")
	}
	if c.NArg() == 0 {
		return usagef("inventory: name the LAYOUT to record")
	}
	progress, err := newProgress(c)
	if err != nil {
		return err
	}
	name, r, close, err := openTarget(c, c.Args().Slice())
	if err != nil {
		return err
	}
	defer close()
	res, err := bundle.Inventory(c.Context, name, r, progress)
	if parts, ok := r.(*bundle.PartsReader); ok {
		err = parts.Explain(err)
	}
	if err != nil {
		return cmdErr(c, err)
	}
	warn(c, prefixed("not listed: ", res.Unlisted)) // blobs that failed verification
	if err := bundle.WriteInventory(c.Context, out, &res); err != nil {
		return cmdErr(c, err)
	}
	return emit(c, c.App.Writer, res, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "inventory %s %d %s (%d blobs, %d tags)\n", res.File.Digest, res.File.Size, res.File.Path, res.Blobs, res.Tags)
		return err
	})
}

// prefixed returns each of msgs after prefix.
func prefixed(prefix string, msgs []string) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = prefix + m
	}
	return out
}
