package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// flagEnv is the one table of the flags' environment variables: a flag
// named here takes its value from the variable when it is set (the command
// line wins), and its help names the variable. A flag means the same in
// every command that has it, and so does its variable.
//
// To add a setting to serve, define the flag with its built-in default and
// add it here and to the README's configuration table (the tests check
// that serve -h and the table agree). Never read the environment into a
// flag's default: -h prints defaults, and the environment holds secrets.
var flagEnv = map[string]string{
	// serve and migrate
	"addr":                    "SWITCHBOARD_ADDR",
	"db":                      "SWITCHBOARD_DB",
	"project":                 "SWITCHBOARD_PROJECT",
	"pg-writers":              "SWITCHBOARD_PG_WRITERS",
	"source":                  "SWITCHBOARD_SOURCE",
	"simulator":               "SWITCHBOARD_SIMULATOR",
	"simulator-delay":         "SWITCHBOARD_SIMULATOR_DELAY",
	"porting-timeout":         "SWITCHBOARD_PORTING_TIMEOUT",
	"port-out-lifetime":       "SWITCHBOARD_PORT_OUT_LIFETIME",
	"allow-private-endpoints": "SWITCHBOARD_ALLOW_PRIVATE_ENDPOINTS",
	"webhook-timeout":         "SWITCHBOARD_WEBHOOK_TIMEOUT",
	"webhook-retry-schedule":  "SWITCHBOARD_WEBHOOK_RETRY_SCHEDULE",
	"webhook-disable-after":   "SWITCHBOARD_WEBHOOK_DISABLE_AFTER",
	"webhook-secret-grace":    "SWITCHBOARD_WEBHOOK_SECRET_GRACE",
	"webhook-lease":           "SWITCHBOARD_WEBHOOK_LEASE",
	"webhook-workers":         "SWITCHBOARD_WEBHOOK_WORKERS",
	"log-format":              "SWITCHBOARD_LOG_FORMAT",
	"log-level":               "SWITCHBOARD_LOG_LEVEL",
	"shutdown-grace":          "SWITCHBOARD_SHUTDOWN_GRACE",
	"metrics-addr":            "SWITCHBOARD_METRICS_ADDR",
	"secret-key-file":         "SWITCHBOARD_SECRET_KEY_FILE",
	"api-rate-limit":          "SWITCHBOARD_API_RATE_LIMIT",
	"read-header-timeout":     "SWITCHBOARD_READ_HEADER_TIMEOUT",
	"read-timeout":            "SWITCHBOARD_READ_TIMEOUT",
	"write-timeout":           "SWITCHBOARD_WRITE_TIMEOUT",
	"idle-timeout":            "SWITCHBOARD_IDLE_TIMEOUT",

	// the commands that talk to a running server
	"api-url": "SWITCHBOARD_API_URL",
	"api-key": "SWITCHBOARD_API_KEY",
	"secret":  "SWITCHBOARD_LISTEN_SECRET",
}

// envSetting is a setting of serve that has an environment variable and
// no flag.
type envSetting struct {
	name, usage string
}

// serveEnvOnly are serve's settings without a flag: serve -h lists them
// after the flags.
var serveEnvOnly = []envSetting{
	{"SWITCHBOARD_API_KEY", "the default project's API key; when unset, one is generated on first start and printed once"},
	{"SWITCHBOARD_ADMIN_KEY", "the operator key; when unset, one is generated on first start and printed once"},
	{"SWITCHBOARD_SECRET_KEY", "the server secret key(s), base64, comma-separated, current first; when unset, --secret-key-file or (SQLite) the key file beside the database"},
	{"SWITCHBOARD_CPUPROFILE", "write a CPU profile of the server to this file until it stops"},
	{"GOGC", "Go's collector target; serve sets 200 unless it is set"},
}

// bindEnv names each flag's environment variable in its help and sets the
// flag from the variable when it is set. Call it after defining the flags
// and before parsing them, so that the command line wins. Help keeps
// showing the built-in defaults, never the environment's values.
func bindEnv(fs *flag.FlagSet) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		name, ok := flagEnv[f.Name]
		if !ok {
			return
		}
		if tag := "(" + name + ")"; !strings.Contains(f.Usage, tag) {
			f.Usage += " " + tag
		}
		v, ok := os.LookupEnv(name)
		if !ok {
			return
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "yes", "on":
				v = "true"
			case "no", "off":
				v = "false"
			}
		}
		if err := fs.Set(f.Name, v); err != nil {
			// The value is not repeated: the variable may hold a secret.
			errs = append(errs, fmt.Errorf("invalid %s (the value of --%s, such as %q): %w", name, f.Name, f.DefValue, err))
		}
	})
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// printEnvOnly writes the settings that have no flag, for serve -h.
func printEnvOnly(w io.Writer, settings []envSetting) {
	fmt.Fprintln(w, "\nEnvironment variables without a flag:")
	for _, s := range settings {
		fmt.Fprintf(w, "  %s\n    \t%s\n", s.name, s.usage)
	}
}
