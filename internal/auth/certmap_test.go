package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"net/url"
	"testing"
	"time"
)

var (
	oidCN  = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidC   = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidO   = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidOU  = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidUID = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1} // not mappable as a DN
)

// rdn is one RDN of a test subject, attributes as OID and value pairs.
type rdn []pkix.AttributeTypeAndValue

func av(oid asn1.ObjectIdentifier, v string) pkix.AttributeTypeAndValue {
	return pkix.AttributeTypeAndValue{Type: oid, Value: v}
}

// certSpec describes a client certificate; the subject is given in
// certificate (least specific first) order.
type certSpec struct {
	subject []rdn
	emails  []string
	dns     []string
	uris    []string
}

// makeCert issues a throwaway self-signed certificate. Mapping reads only
// names; chain verification belongs to the TLS handshake.
func makeCert(t *testing.T, s certSpec) *x509.Certificate {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var seq pkix.RDNSequence
	for _, r := range s.subject {
		seq = append(seq, pkix.RelativeDistinguishedNameSET(r))
	}
	raw, err := asn1.Marshal(seq)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:   big.NewInt(1),
		RawSubject:     raw,
		NotBefore:      time.Now().Add(-time.Hour),
		NotAfter:       time.Now().Add(time.Hour),
		EmailAddresses: s.emails,
		DNSNames:       s.dns,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	for _, u := range s.uris {
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, pu)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestCertMapping(t *testing.T) {
	users := []*User{
		{Username: "alice@example.com"},
		{Username: "svc.example.com"},
		{Username: "spiffe://example.org/ns/prod/sa/api"},
		{Username: "CN=carol,O=Acme,C=US"},
		{Username: "cn=judy,o=Acme"}, // only a DN comparison finds this one
		{Username: "C=US,O=Reordered,CN=dan"},
		{Username: "CN=erin+OU=ops,O=Acme"},
		{Username: "CN=frank,DC=com,DC=example"}, // pkix form plus DCs in certificate order
		{Username: "CN=grace,O=Acme"},            // pkix form, an unmappable attribute dropped
		{Username: "CN=heidi", Password: "also-a-password"},
		{Username: "mallory@example.com"},
	}
	a := mustNew(t, Config{Users: users, TLSMap: true})

	tests := []struct {
		name    string
		cert    certSpec
		pass    string
		want    string
		wantErr error
	}{
		{"email SAN", certSpec{emails: []string{"nobody@x", "alice@example.com"}, dns: []string{"svc.example.com"}},
			"", "alice@example.com", nil},
		{"DNS SAN after unknown email", certSpec{emails: []string{"nobody@x"}, dns: []string{"svc.example.com"}},
			"", "svc.example.com", nil},
		{"URI SAN", certSpec{dns: []string{"unknown.example"}, uris: []string{"spiffe://example.org/ns/prod/sa/api"}},
			"", "spiffe://example.org/ns/prod/sa/api", nil},
		{"SAN before subject", certSpec{subject: []rdn{{av(oidCN, "carol")}}, emails: []string{"mallory@example.com"}},
			"", "mallory@example.com", nil},
		{"subject DN", certSpec{subject: []rdn{{av(oidC, "US")}, {av(oidO, "Acme")}, {av(oidCN, "carol")}}},
			"", "CN=carol,O=Acme,C=US", nil},
		{"subject DN, types in any case", certSpec{subject: []rdn{{av(oidO, "Acme")}, {av(oidCN, "judy")}}},
			"", "cn=judy,o=Acme", nil},
		{"subject DN in the other order", certSpec{subject: []rdn{{av(oidCN, "dan")}, {av(oidO, "Reordered")}, {av(oidC, "US")}}},
			"", "C=US,O=Reordered,CN=dan", nil},
		{"multi-valued RDN", certSpec{subject: []rdn{{av(oidO, "Acme")}, {av(oidOU, "ops"), av(oidCN, "erin")}}},
			"", "CN=erin+OU=ops,O=Acme", nil},
		{"pkix form with domain components",
			certSpec{subject: []rdn{{av(oidDC, "com")}, {av(oidDC, "example")}, {av(oidUID, "f1")}, {av(oidCN, "frank")}}},
			"", "CN=frank,DC=com,DC=example", nil},
		{"pkix form without domain components",
			certSpec{subject: []rdn{{av(oidO, "Acme")}, {av(oidUID, "g1")}, {av(oidCN, "grace")}}},
			"", "CN=grace,O=Acme", nil},
		{"values are case sensitive", certSpec{subject: []rdn{{av(oidC, "US")}, {av(oidO, "ACME")}, {av(oidCN, "carol")}}},
			"", "", errCertNotMapped},
		{"nothing matches", certSpec{subject: []rdn{{av(oidCN, "zoe")}}, dns: []string{"zoe.example"}},
			"", "", errCertNotMapped},
		{"empty subject", certSpec{}, "", "", errCertNotMapped},
		{"mapped user's password still checked", certSpec{subject: []rdn{{av(oidCN, "heidi")}}},
			"", "", errBadPassword},
		{"mapped user's password given", certSpec{subject: []rdn{{av(oidCN, "heidi")}}},
			"also-a-password", "CN=heidi", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert := makeCert(t, tt.cert)
			// A user named in CONNECT does not override the certificate.
			id, err := a.Authenticate(Credentials{User: "alice@example.com", Pass: tt.pass, Cert: cert})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v (subject %q)", err, tt.wantErr, cert.Subject.String())
			}
			if err == nil && id.Name != tt.want {
				t.Fatalf("identity %q, want %q", id.Name, tt.want)
			}
		})
	}
}

func TestCertMappingOrder(t *testing.T) {
	key := newNkeyUser(t)
	a := mustNew(t, Config{
		Users:      []*User{{Username: "CN=ivan"}, {Username: "guest"}},
		Nkeys:      []*NkeyUser{{Nkey: key.pub}},
		NoAuthUser: "guest",
		TLSMap:     true,
	})
	cert := makeCert(t, certSpec{subject: []rdn{{av(oidCN, "ivan")}}})
	runAuth(t, a, []authCase{
		{"certificate", Credentials{Cert: cert}, "CN=ivan", nil},
		{"no certificate", Credentials{User: "CN=ivan"}, "", errNoCert},
		// Under verify_and_map no_auth_user does not apply to users.
		{"bare without certificate", Credentials{}, "", errNoCert},
		{"an nkey comes first", Credentials{Nkey: key.pub, Nonce: "n", Cert: cert}, "", errNoSignature},
	})
}
