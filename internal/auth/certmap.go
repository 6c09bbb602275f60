package auth

import "crypto/x509"

// certUser finds the configured user a client certificate names, for
// verify_and_map. The candidates are tried in nats-server's order, first
// match wins:
//
//  1. each email address SAN, then each DNS SAN, then each URI SAN, as an
//     exact user name;
//  2. the subject as a distinguished name against every user name that
//     parses as one: first in the same RDN order, then in any order;
//  3. the subject in Go's RFC 2253 form (pkix.Name.String, e.g.
//     "CN=alice,OU=eng,O=Acme,C=US") followed by its domain components
//     (",DC=example,DC=com"), if it has any;
//  4. that form without the domain components.
//
// Users are tried in configuration order where nats-server, iterating a
// map, has none; the result only differs if two users match one
// certificate.
func (a *Authenticator) certUser(cert *x509.Certificate) *userEntry {
	for _, list := range [][]string{cert.EmailAddresses, cert.DNSNames, uriStrings(cert)} {
		for _, name := range list {
			if u := a.users[name]; u != nil {
				return u
			}
		}
	}
	if subj, err := dnFromCert(cert.RawSubject); err == nil && len(subj) > 0 {
		for _, u := range a.userList {
			if u.dn != nil && u.dn.equal(subj) {
				return u
			}
		}
		for _, u := range a.userList {
			if u.dn != nil && u.dn.sameRDNs(subj) {
				return u
			}
		}
	}
	rfc2253 := cert.Subject.ToRDNSequence().String()
	if dcs := certDCs(cert.RawSubject); dcs != "" {
		if u := a.users[rfc2253+","+dcs]; u != nil {
			return u
		}
	}
	return a.users[rfc2253]
}

func uriStrings(cert *x509.Certificate) []string {
	out := make([]string, 0, len(cert.URIs))
	for _, u := range cert.URIs {
		out = append(out, u.String())
	}
	return out
}
