package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/nats-io/nkeys"
	"golang.org/x/term"

	"github.com/starling-mq/starling/internal/auth"
)

// runPasswd prints a bcrypt hash of a password for the authorization block
// of a configuration file, like `nats server passwd`.
func runPasswd(_ context.Context, e *env, args []string) error {
	var pass string
	f := newFlagSet("passwd", "",
		"Print a bcrypt hash of a password, to use as a user's password in a configuration file.\n"+
			"The password is read from the terminal (asked twice, not echoed), or from the first\n"+
			"line of stdin when it is a pipe, or given with --pass.")
	f.stringVar(&pass, "pass", "p", "PASSWORD", "", "the password (visible in the process list; prefer the prompt)")
	pos, err := parseOrHelp(e, f, args)
	if err != nil {
		return err
	}
	if err := f.checkArgs(pos, 0, 0); err != nil {
		return err
	}
	if pass == "" {
		if pass, err = readPassword(e); err != nil {
			return err
		}
	}
	if len(pass) < 8 {
		fmt.Fprintln(e.stderr, "warning: a password shorter than 8 characters is easy to guess")
	}
	hash, err := auth.HashPassword(pass)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, hash)
	return nil
}

func readPassword(e *env) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, "Password: ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(e.stderr, "Again: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		if string(p1) != string(p2) {
			return "", errors.New("passwords do not match")
		}
		if len(p1) == 0 {
			return "", errors.New("empty password")
		}
		return string(p1), nil
	}
	line, err := bufio.NewReaderSize(e.stdin, 4096).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		if err != nil {
			return "", fmt.Errorf("no password on stdin: %w", err)
		}
		return "", errors.New("empty password")
	}
	return line, nil
}

// nkeyTypes are the kinds of NKey `starling nkey gen` makes.
var nkeyTypes = map[string]func() (nkeys.KeyPair, error){
	"user":     nkeys.CreateUser,
	"account":  nkeys.CreateAccount,
	"server":   nkeys.CreateServer,
	"cluster":  nkeys.CreateCluster,
	"operator": nkeys.CreateOperator,
}

// runNkey generates NKey pairs: `starling nkey gen user` prints the seed
// (keep it secret: it signs) and the public key (put it in the
// configuration's users list).
func runNkey(_ context.Context, e *env, args []string) error {
	f := newFlagSet("nkey", "gen <user|account|server|cluster|operator>",
		"Generate an NKey pair. The first line is the seed, which the client keeps secret and signs\n"+
			"with; the second is the public key, for the server's configuration:\n"+
			"  authorization { users: [ {nkey: U...} ] }")
	pos, err := parseOrHelp(e, f, args)
	if err != nil {
		return err
	}
	if err := f.checkArgs(pos, 2, 2); err != nil {
		return err
	}
	if pos[0] != "gen" {
		return usageErrorf("unknown nkey action %q: usage: starling nkey gen <type>", pos[0])
	}
	create, ok := nkeyTypes[pos[1]]
	if !ok {
		return usageErrorf("unknown key type %q (want user, account, server, cluster or operator)", pos[1])
	}
	kp, err := create()
	if err != nil {
		return err
	}
	seed, err := kp.Seed()
	if err != nil {
		return err
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s\n%s\n", seed, pub)
	return nil
}
