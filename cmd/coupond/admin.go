package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/coupond/coupond/models"
)

// userCommand runs "coupond user create": it adds a console account. The
// password comes from --password, else COUPOND_PASSWORD, else the first
// line of stdin.
func userCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New(`usage: coupond user create --email E --role admin|editor|viewer [--password P]`)
	}
	fs := flag.NewFlagSet("coupond user create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var db dbFlags
	db.register(fs, getenv)
	email := fs.String("email", "", "the account's email (required)")
	role := fs.String("role", "", "admin, editor or viewer (required)")
	password := fs.String("password", "", "the password; prefer COUPOND_PASSWORD or stdin, which stay out of the shell history")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *password == "" {
		*password = getenv("COUPOND_PASSWORD")
	}
	if *password == "" {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read password from stdin: %w", err)
		}
		*password = strings.TrimRight(line, "\r\n")
	}
	store, err := db.open(ctx, models.Config{})
	if err != nil {
		return err
	}
	defer store.Close()
	u, err := store.CreateUser(ctx, models.UserInput{Email: *email, Password: *password, Role: *role})
	var verr *models.ValidationError
	if errors.As(err, &verr) {
		return fmt.Errorf("user not created: %s", verr.Summary())
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %s (%s)\n", u.Email, u.Role)
	return nil
}

// tokenCommand runs "coupond token create": it makes an API token and
// prints it alone on the last line of stdout.
func tokenCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New(`usage: coupond token create --name N --scope modify|read`)
	}
	fs := flag.NewFlagSet("coupond token create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var db dbFlags
	db.register(fs, getenv)
	name := fs.String("name", "", "who or what uses the token (required)")
	scope := fs.String("scope", models.ScopeModify, "modify (read and write) or read (read-only)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	store, err := db.open(ctx, models.Config{})
	if err != nil {
		return err
	}
	defer store.Close()
	t, secret, err := store.CreateToken(ctx, *name, *scope)
	var verr *models.ValidationError
	if errors.As(err, &verr) {
		return fmt.Errorf("token not created: %s", verr.Summary())
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created token %q with scope %s; it is shown once:\n%s\n", t.Name, t.Scope, secret)
	return nil
}
