package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/contract"
	"github.com/switchboard-dev/switchboard/internal/eventlog"
)

func init() {
	commands["openapi"] = command{summary: "print the OpenAPI 3.1 document of the API", run: printDocument(contract.OpenAPIFile)}
	commands["asyncapi"] = command{summary: "print the AsyncAPI 3.0 document of the webhooks", run: printDocument(contract.AsyncAPIFile)}
	commands["schemas"] = command{summary: "print the JSON Schema of an event type (or of every type) in a version", run: schemasCmd}
}

// printDocument prints one of the published documents, as the server
// serves it.
func printDocument(name string) func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return func(_ context.Context, args []string, stdout, stderr io.Writer) error {
		fs := newFlags(strings.TrimSuffix(name, ".json"), stderr)
		if err := parseNone(fs, args); err != nil {
			return err
		}
		files, err := contract.Files()
		if err != nil {
			return err
		}
		_, err = stdout.Write(files[name])
		return err
	}
}

// schemasCmd prints an event type's schema in a version, or, without a
// type, an object of every type's schema in the version.
func schemasCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("schemas", stderr)
	version := fs.String("version", switchboard.LatestVersion, "API version: "+strings.Join(switchboard.Versions, ", "))
	list := fs.Bool("list", false, "list the event types and versions instead")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: switchboard schemas [event type] [--version V] [--list]")
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 1 {
		return usageError("schemas takes at most one event type")
	}
	if !eventlog.Supported(*version) {
		return usageError("version %q is not supported; supported: %s", *version, strings.Join(switchboard.Versions, ", "))
	}
	if *list {
		types := slices.Sorted(slices.Values(switchboard.EventTypes))
		for _, t := range types {
			fmt.Fprintf(stdout, "%s\t%s\n", t, strings.Join(switchboard.Versions, " "))
		}
		return nil
	}
	files, err := contract.Files()
	if err != nil {
		return err
	}
	if len(rest) == 1 {
		if !contract.KnownEventType(rest[0]) {
			return usageError("unknown event type %q (switchboard schemas --list names them)", rest[0])
		}
		_, err := stdout.Write(files[contract.EventSchemaFile(rest[0], *version)])
		return err
	}
	all := map[string]any{}
	for _, t := range switchboard.EventTypes {
		s, err := contract.EventSchema(t, *version)
		if err != nil {
			return err
		}
		all[t] = s
	}
	b, err := contract.Encode(all)
	if err != nil {
		return err
	}
	_, err = stdout.Write(b)
	return err
}
