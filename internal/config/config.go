// Package config reads balcao's settings: flags override BALCAO_* environment variables,
// which override the defaults, and Validate reports every problem at once.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// Config holds the settings of `balcao serve`.
type Config struct {
	Addr       string // listen address
	DataDir    string // folder of the SQLite file
	DB         string // postgres:// URL; empty for the embedded SQLite file
	NoDemo     bool   // start empty instead of loading the demo agency
	ConfigFile string // agency configuration (JSON) applied at start
	BaseURL    string // public URL of the site, for links in API answers
	TLSCert    string
	TLSKey     string
	LogLevel   string
}

// Parse reads the settings from args (after the subcommand) and the environment.
func Parse(name string, args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	env := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	envBool := func(key string) bool {
		b, _ := strconv.ParseBool(getenv(key))
		return b
	}
	var c Config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", env("BALCAO_ADDR", ":8080"), "listen address (BALCAO_ADDR)")
	fs.StringVar(&c.DataDir, "data", env("BALCAO_DATA", "data"), "data folder for the SQLite file (BALCAO_DATA)")
	fs.StringVar(&c.DB, "db", env("BALCAO_DB", ""), "PostgreSQL URL, postgres://...; empty for embedded SQLite (BALCAO_DB)")
	fs.BoolVar(&c.NoDemo, "no-demo", envBool("BALCAO_NO_DEMO"), "start empty, without the demo agency (BALCAO_NO_DEMO)")
	fs.StringVar(&c.ConfigFile, "config", env("BALCAO_CONFIG", ""), "agency configuration file (JSON) to apply at start (BALCAO_CONFIG)")
	fs.StringVar(&c.BaseURL, "base-url", env("BALCAO_BASE_URL", ""), "public URL of the site, e.g. https://balcao.example.pt (BALCAO_BASE_URL)")
	fs.StringVar(&c.TLSCert, "tls-cert", env("BALCAO_TLS_CERT", ""), "TLS certificate file, to serve HTTPS (BALCAO_TLS_CERT)")
	fs.StringVar(&c.TLSKey, "tls-key", env("BALCAO_TLS_KEY", ""), "TLS key file (BALCAO_TLS_KEY)")
	fs.StringVar(&c.LogLevel, "log-level", env("BALCAO_LOG_LEVEL", "info"), "debug, info, warn or error (BALCAO_LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return c, c.Validate()
}

// Validate reports every problem in the settings.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("addr %q: want host:port or :port", c.Addr))
	}
	if c.DB != "" && !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") {
		errs = append(errs, errors.New("db: want a postgres:// URL"))
	}
	if c.DB == "" && c.DataDir == "" {
		errs = append(errs, errors.New("data: a folder is needed for the SQLite file"))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("tls-cert and tls-key go together"))
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("base-url %q: want http(s)://host", c.BaseURL))
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	if c.ConfigFile != "" {
		if _, err := os.Stat(c.ConfigFile); err != nil {
			errs = append(errs, fmt.Errorf("config: %w", err))
		}
	}
	return errors.Join(errs...)
}

// TLS tells whether balcao serves HTTPS itself.
func (c Config) TLS() bool { return c.TLSCert != "" }
