package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/contract"
)

// TestContractCommands prints the published documents: the same bytes
// the server serves and the repository holds.
func TestContractCommands(t *testing.T) {
	files, err := contract.Files()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want []byte
	}{
		{[]string{"openapi"}, files[contract.OpenAPIFile]},
		{[]string{"asyncapi"}, files[contract.AsyncAPIFile]},
		{[]string{"schemas", switchboard.TypePortingDeclined}, files[contract.EventSchemaFile(switchboard.TypePortingDeclined, switchboard.LatestVersion)]},
		{[]string{"schemas", "--version", "2024-08-29", switchboard.TypeUserUpdated}, files[contract.EventSchemaFile(switchboard.TypeUserUpdated, "2024-08-29")]},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), tt.args, &out, &errOut); code != 0 {
			t.Fatalf("%q: exit %d: %s", tt.args, code, errOut.String())
		}
		if !bytes.Equal(out.Bytes(), tt.want) {
			t.Errorf("%q printed something else than the published document", tt.args)
		}
	}

	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"schemas", "--version", "2024-10-28"}, &out, &errOut); code != 0 {
		t.Fatalf("schemas: exit %d: %s", code, errOut.String())
	}
	var all map[string]map[string]any
	if err := json.Unmarshal(out.Bytes(), &all); err != nil {
		t.Fatal(err)
	}
	if len(all) != len(switchboard.EventTypes) || all[switchboard.TypePortingCanceled]["$id"] != contract.SchemaID(switchboard.TypePortingCanceled, "2024-10-28") {
		t.Errorf("schemas without a type printed %d schemas", len(all))
	}

	for _, bad := range [][]string{{"schemas", "com.gigs.porting.teleported"}, {"schemas", "--version", "1999-01-01"}, {"openapi", "extra"}} {
		if code := run(context.Background(), bad, &out, &errOut); code == 0 {
			t.Errorf("%q succeeded, want a usage error", bad)
		}
	}
}
