package auth

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"strings"
)

// A distinguished name as a list of RDNs, most specific first (the order
// RFC 4514 writes them: "CN=alice,OU=eng,O=Acme"). An RDN is a set of
// attributes, usually one ("CN=a+UID=b" has two).
type dn [][]attr

type attr struct {
	typ, value string
}

// attrNames are the attribute types nats-server can map from a
// certificate; a subject with any other type cannot be matched as a DN.
var attrNames = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.5":                    "SERIALNUMBER",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.9":                    "STREET",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.17":                   "POSTALCODE",
	"0.9.2342.19200300.100.1.25": "DC",
}

var oidDC = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}

// dnFromCert reads a certificate's raw subject, keeping every attribute and
// multi-valued RDNs that pkix.Name would drop or flatten.
func dnFromCert(raw []byte) (dn, error) {
	var seq pkix.RDNSequence
	if _, err := asn1.Unmarshal(raw, &seq); err != nil {
		return nil, err
	}
	var d dn
	for i := len(seq) - 1; i >= 0; i-- {
		if len(seq[i]) == 0 {
			continue
		}
		var rdn []attr
		for _, atv := range seq[i] {
			name, ok := attrNames[atv.Type.String()]
			if !ok {
				return nil, errors.New("unsupported attribute type " + atv.Type.String())
			}
			v, ok := atv.Value.(string)
			if !ok {
				return nil, errors.New("attribute value is not a string")
			}
			rdn = append(rdn, attr{name, v})
		}
		d = append(d, rdn)
	}
	return d, nil
}

// certDCs lists a subject's domain components as "DC=x,DC=y" in the
// certificate's order, the suffix nats-server appends to the pkix form of
// the subject, which leaves them out.
func certDCs(raw []byte) string {
	var seq pkix.RDNSequence
	if _, err := asn1.Unmarshal(raw, &seq); err != nil {
		return ""
	}
	var dcs []string
	for _, rdn := range seq {
		for _, atv := range rdn {
			if v, ok := atv.Value.(string); ok && atv.Type.Equal(oidDC) {
				dcs = append(dcs, "DC="+v)
			}
		}
	}
	return strings.Join(dcs, ",")
}

// parseDN reads an RFC 4514 string such as a user name in the
// configuration. Backslash escapes a special character or gives two hex
// digits; unescaped spaces around types and values are dropped. Hex-encoded
// BER values ("CN=#04...") are not supported.
func parseDN(s string) (dn, error) {
	var (
		d     dn
		rdn   []attr
		cur   attr
		buf   []byte
		inVal bool
		trail int // unescaped spaces at the end of buf
	)
	take := func() string {
		v := string(buf[:len(buf)-trail])
		buf, trail = buf[:0], 0
		return v
	}
	endAttr := func() error {
		if !inVal || cur.typ == "" {
			return errors.New("attribute without a type")
		}
		cur.value = take()
		rdn = append(rdn, cur)
		cur, inVal = attr{}, false
		return nil
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '\\':
			if i+1 >= len(s) {
				return nil, errors.New("dangling escape")
			}
			i++
			if strings.IndexByte(` "#+,;<=>\`, s[i]) < 0 {
				if i+1 >= len(s) {
					return nil, errors.New("short hex escape")
				}
				b, err := hex.DecodeString(s[i : i+2])
				if err != nil {
					return nil, err
				}
				buf = append(buf, b[0])
				i++
			} else {
				buf = append(buf, s[i])
			}
			trail = 0
		case ch == '=' && !inVal:
			cur.typ, inVal = take(), true
			if i+1 < len(s) && s[i+1] == '#' {
				return nil, errors.New("BER-encoded values are not supported")
			}
		case ch == ',' || ch == '+':
			if err := endAttr(); err != nil {
				return nil, err
			}
			if ch == ',' {
				d, rdn = append(d, rdn), nil
			}
		case ch == ' ' && len(buf) == 0:
			// leading space
		default:
			if ch == ' ' {
				trail++
			} else {
				trail = 0
			}
			buf = append(buf, ch)
		}
	}
	if err := endAttr(); err != nil {
		return nil, err
	}
	return append(d, rdn), nil
}

// equal is distinguishedNameMatch: the same RDNs in the same order.
func (d dn) equal(o dn) bool {
	if len(d) != len(o) {
		return false
	}
	for i := range d {
		if !rdnEqual(d[i], o[i]) {
			return false
		}
	}
	return true
}

// sameRDNs is equal with the RDNs in any order, for a configured name
// written in the opposite order to the certificate's.
func (d dn) sameRDNs(o dn) bool {
	if len(d) != len(o) {
		return false
	}
	used := make([]bool, len(o))
next:
	for _, r := range d {
		for j, q := range o {
			if !used[j] && rdnEqual(r, q) {
				used[j] = true
				continue next
			}
		}
		return false
	}
	return true
}

// rdnEqual compares attribute sets: types ignore case, values do not.
func rdnEqual(a, b []attr) bool {
	if len(a) != len(b) {
		return false
	}
	return attrsIn(a, b) && attrsIn(b, a)
}

func attrsIn(a, b []attr) bool {
next:
	for _, x := range a {
		for _, y := range b {
			if strings.EqualFold(x.typ, y.typ) && x.value == y.value {
				continue next
			}
		}
		return false
	}
	return true
}
