package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/bcrypt"
)

func TestPasswd(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		stdin string
	}{
		{[]string{"--pass", "correct horse"}, ""},
		{nil, "correct horse\n"},
	} {
		stdin := tc.stdin
		e, out, errOut := testEnv(&stdin)
		if code := run(context.Background(), e, "passwd", tc.args); code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, errOut.String())
		}
		hash := strings.TrimSpace(out.String())
		if !strings.HasPrefix(hash, "$2a$11$") || bcrypt.CompareHashAndPassword([]byte(hash), []byte("correct horse")) != nil {
			t.Fatalf("%v: hash %q does not verify", tc.args, hash)
		}
	}
	empty := ""
	e, _, errOut := testEnv(&empty)
	if code := run(context.Background(), e, "passwd", nil); code != 1 || !strings.Contains(errOut.String(), "password") {
		t.Fatalf("empty stdin: %d %s", code, errOut.String())
	}
}

func TestNkeyGen(t *testing.T) {
	e, out, errOut := testEnv(nil)
	if code := run(context.Background(), e, "nkey", []string{"gen", "user"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	lines := strings.Fields(out.String())
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "SU") || !nkeys.IsValidPublicUserKey(lines[1]) {
		t.Fatalf("output %q", out.String())
	}
	kp, err := nkeys.FromSeed([]byte(lines[0]))
	if err != nil {
		t.Fatal(err)
	}
	if pub, _ := kp.PublicKey(); pub != lines[1] {
		t.Fatal("public key does not belong to the seed")
	}
	e, _, errOut = testEnv(nil)
	if code := run(context.Background(), e, "nkey", []string{"gen", "wizard"}); code != 1 || !strings.Contains(errOut.String(), "unknown key type") {
		t.Fatalf("bad type: %d %s", code, errOut.String())
	}
}
