package main

import (
	"flag"
	"fmt"
	"strconv"

	"github.com/switchboard-dev/switchboard/internal/limits"
	"github.com/switchboard-dev/switchboard/internal/server"
)

// optBool is a boolean flag that may be left unset (nil).
type optBool struct{ v **bool }

func (o optBool) String() string {
	if o.v == nil || *o.v == nil {
		return "unset"
	}
	return strconv.FormatBool(**o.v)
}

func (o optBool) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want true or false")
	}
	*o.v = &b
	return nil
}

// IsBoolFlag lets the flag be given without a value.
func (o optBool) IsBoolFlag() bool { return true }

// safetyFlags binds the flags that make serve safe to run for others: the
// secret key, the private-address rule, the API rate limit and the
// connection timeouts.
func safetyFlags(cfg *server.Config, fs *flag.FlagSet) {
	fs.Var(optBool{&cfg.AllowPrivateEndpoints}, "allow-private-endpoints",
		"allow (true) or refuse (false) webhook endpoints at loopback, private and link-local addresses; "+
			"unset: allowed only while --addr is a loopback address")
	fs.StringVar(&cfg.KeyFile, "secret-key-file", "",
		"key file with the server secret key when SWITCHBOARD_SECRET_KEY is unset; for SQLite the default is the database's path + .key, made on first start")
	fs.Float64Var(&cfg.APIRateLimit, "api-rate-limit", limits.DefaultAPIRate,
		"requests per second one API key may make, bursting to twice that; 0 is no limit")
	fs.DurationVar(&cfg.ReadHeaderTimeout, "read-header-timeout", limits.DefaultReadHeaderTimeout,
		"how long a client has to send a request's headers")
	fs.DurationVar(&cfg.ReadTimeout, "read-timeout", limits.DefaultReadTimeout,
		"how long a client has to send a whole request, body included")
	fs.DurationVar(&cfg.WriteTimeout, "write-timeout", limits.DefaultWriteTimeout,
		"how long handling a request and writing its response may take")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", limits.DefaultIdleTimeout,
		"how long an idle keep-alive connection is kept")
}
