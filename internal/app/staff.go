package app

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"balcao/internal/audit"
	"balcao/internal/auth"
	"balcao/internal/config"
	"balcao/internal/demo"
	"balcao/internal/store"
)

// DemoPassword is the password of every demo staff account. It is set only when the demo
// agency is loaded into an empty database, never otherwise.
const DemoPassword = "demo-balcao-2026"

// demoHash is DemoPassword hashed once per process (tests start many apps).
var demoHash = sync.OnceValues(func() (string, error) { return auth.HashPassword(DemoPassword) })

// demoLogin is a demo staff account, for the welcome message.
type demoLogin struct {
	Email, Role string
	TOTP        bool // must set up TOTP at first sign-in
}

// demoLogins gives the demo staff the demo password when the demo agency was just loaded,
// and lists the demo logins whenever the database has them.
func demoLogins(ctx context.Context, svc *auth.Service, loaded bool) ([]demoLogin, error) {
	cfg, err := demo.Config()
	if err != nil {
		return nil, err
	}
	if loaded {
		hash, err := demoHash()
		if err != nil {
			return nil, err
		}
		ids := make([]string, 0, len(cfg.Staff))
		for _, s := range cfg.Staff {
			ids = append(ids, s.ID)
		}
		if err := svc.SetDemoPasswords(ctx, hash, ids...); err != nil {
			return nil, err
		}
	} else if has, err := svc.HasDemoPasswords(ctx); err != nil || !has {
		return nil, err
	}
	var out []demoLogin
	for _, s := range cfg.Staff {
		role := s.Role
		if role == "" {
			role = auth.RoleAgent
		}
		required, err := svc.TOTPRequired(ctx, role)
		if err != nil {
			return nil, err
		}
		out = append(out, demoLogin{Email: s.Email, Role: role, TOTP: required})
	}
	return out, nil
}

// printLogins writes the staff sign-in address and, with the demo agency, its logins.
func printLogins(w io.Writer, url string, logins []demoLogin) {
	fmt.Fprintf(w, "  staff sign-in:   %sstaff/login\n", url)
	if len(logins) == 0 {
		fmt.Fprintln(w, "  staff accounts:  balcao user add --email E --name N --role R --location L")
		return
	}
	fmt.Fprintf(w, "  demo logins (password %q for all):\n", DemoPassword)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, l := range logins {
		if l.TOTP {
			fmt.Fprintf(tw, "    %s\t%s\tsets up two-step verification at first sign-in\n", l.Email, l.Role)
		} else {
			fmt.Fprintf(tw, "    %s\t%s\n", l.Email, l.Role)
		}
	}
	tw.Flush()
}

const userUsage = `usage: balcao user COMMAND [flags]
  add --email E --name N --role R --location L [--password-stdin]
                 create a staff account (role: agent, interpreter, supervisor, administrator)
  passwd --email E [--password-stdin]
                 set a new password (ends every session of the account)
  disable --email E
                 stop an account from signing in (ends its sessions)
  reset-totp --email E
                 remove the account's two-step verification (a lost phone)
  list           list the staff accounts
Every command also takes --data and --db, as balcao serve does. Without --password-stdin
the password is asked for on the terminal, or read from standard input when it is not one.`

// RunUser runs `balcao user ...` on the database that serve uses: staff accounts from the
// command line.
func RunUser(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stdout, userUsage)
		return nil
	}
	sub, args := args[0], args[1:]
	var email, name, role, location string
	var fromStdin bool
	cfg, err := config.ParseStore("balcao user "+sub, args, getenv, stderr, func(fs *flag.FlagSet) {
		switch sub {
		case "add":
			fs.StringVar(&name, "name", "", "full name")
			fs.StringVar(&role, "role", auth.RoleAgent, "agent, interpreter, supervisor or administrator")
			fs.StringVar(&location, "location", "", "id of the staff member's location")
			fallthrough
		case "passwd":
			fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from standard input")
			fallthrough
		case "disable", "reset-totp":
			fs.StringVar(&email, "email", "", "e-mail address, with which the staff member signs in")
		}
	})
	if err != nil {
		return err
	}
	switch sub {
	case "add", "passwd", "disable", "reset-totp", "list":
	default:
		return fmt.Errorf("unknown command %q\n%s", "user "+sub, userUsage)
	}
	if sub != "list" && email == "" {
		return errors.New("--email is required")
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	svc := auth.NewService(db, nil, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	log := audit.New(db, nil, nil)
	record := func(action, staffID, details string) error {
		_, err := log.Append(ctx, audit.Entry{Actor: audit.System, Action: action, Object: "staff:" + staffID, Details: details})
		return err
	}
	switch sub {
	case "list":
		return listStaff(ctx, svc, stdout)
	case "add":
		password, err := readPassword(stdin, stderr, fromStdin)
		if err != nil {
			return err
		}
		s, err := svc.CreateStaff(ctx, auth.NewStaff{Email: email, Name: name, Role: role, LocationID: location, Password: password})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created %s (%s, id %s)\n", s.Email, s.Role, s.ID)
		if err := record(audit.AccountChange, s.ID, "command=user_add role="+s.Role); err != nil {
			return err
		}
		if required, err := svc.TOTPRequired(ctx, s.Role); err == nil && required {
			fmt.Fprintln(stdout, "the role requires two-step verification: it is set up at the first sign-in")
		}
		return nil
	}
	s, err := svc.StaffByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no staff member has the e-mail %s", email)
	}
	if err != nil {
		return err
	}
	switch sub {
	case "passwd":
		password, err := readPassword(stdin, stderr, fromStdin)
		if err != nil {
			return err
		}
		if err := svc.SetPassword(ctx, s.ID, password); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s changed; its sessions have ended\n", s.Email)
		return record(audit.AccountChange, s.ID, "command=user_passwd")
	case "disable":
		if err := svc.Disable(ctx, s.ID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s disabled; its sessions have ended\n", s.Email)
		return record(audit.AccountChange, s.ID, "command=user_disable")
	case "reset-totp":
		if err := svc.ResetTOTP(ctx, s.ID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "two-step verification of %s removed\n", s.Email)
		return record(audit.SecondFactorOff, s.ID, "command=user_reset-totp")
	}
	return nil
}

func listStaff(ctx context.Context, svc *auth.Service, stdout io.Writer) error {
	list, err := svc.ListStaff(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tNAME\tROLE\tLOCATION\tSTATUS\tTWO-STEP")
	for _, s := range list {
		status := "active"
		switch {
		case !s.Active:
			status = "disabled"
		case !s.HasPassword:
			status = "no password"
		case !s.LockedUntil.IsZero() && s.LockedUntil.After(time.Now()):
			status = "locked"
		}
		totp := "off"
		if s.TOTPEnabled {
			totp = "on"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Email, s.Name, s.Role, s.LocationID, status, totp)
	}
	return tw.Flush()
}

// readPassword asks for a password twice without echo on a terminal, or reads one line
// of stdin when it is not a terminal or fromStdin is set.
func readPassword(stdin io.Reader, stderr io.Writer, fromStdin bool) (string, error) {
	if f, ok := stdin.(*os.File); ok && !fromStdin && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		first, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(stderr, "Password again: ")
		second, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(first) != string(second) {
			return "", errors.New("the two passwords differ")
		}
		return string(first), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", errors.New("read password: no password on standard input")
	}
	return strings.TrimRight(line, "\r\n"), nil
}
