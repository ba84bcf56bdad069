package transport

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/quic-go/quic-go"
)

// ALPN is the protocol name nodes and clients negotiate.
const ALPN = "bloom/1"

// Credentials are what a node or client presents and trusts: its
// certificate and key, and the cluster CA that peers' certificates must
// chain to. With Insecure set (--insecure-dev) peers' certificates are
// required but not verified.
type Credentials struct {
	Cert     tls.Certificate
	CAs      *x509.CertPool
	Insecure bool
	// resetKey derives QUIC stateless reset tokens from the node's private
	// key, so that a node restarted with the same key tells its peers at
	// once that their old connections are gone.
	resetKey *quic.StatelessResetKey
}

// LoadCredentials reads PEM files: the CA certificate, and this node's (or
// client's) certificate and private key.
func LoadCredentials(caFile, certFile, keyFile string) (*Credentials, error) {
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("%s: no PEM certificate", caFile)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("%s, %s: %w", certFile, keyFile, err)
	}
	return newCredentials(cert, pool, false)
}

func newCredentials(cert tls.Certificate, pool *x509.CertPool, insecure bool) (*Credentials, error) {
	c := &Credentials{Cert: cert, CAs: pool, Insecure: insecure}
	der, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(append([]byte("bloom/1 stateless reset key\x00"), der...))
	k := quic.StatelessResetKey(sum)
	c.resetKey = &k
	return c, nil
}

// InsecureDevCredentials makes a throwaway CA and a certificate for hosts
// in memory. Peers' certificates are not verified: for local play only.
func InsecureDevCredentials(hosts []string) (*Credentials, error) {
	caCert, caKey, err := newCA("bloom insecure-dev CA")
	if err != nil {
		return nil, err
	}
	if len(hosts) == 0 {
		hosts = []string{"localhost", "127.0.0.1"}
	}
	certDER, key, err := issue(caCert, caKey, "bloom insecure-dev", hosts, 24*time.Hour)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return newCredentials(tls.Certificate{Certificate: [][]byte{certDER, caCert.Raw}, PrivateKey: key}, pool, true)
}

// ServerConfig is the TLS configuration for accepting connections: TLS 1.3,
// ALPN bloom/1, and a client certificate that chains to the CA.
func (c *Credentials) ServerConfig() *tls.Config {
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{c.Cert},
		ClientCAs:    c.CAs,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		NextProtos:   []string{ALPN},
	}
	if c.Insecure {
		cfg.ClientAuth = tls.RequireAnyClientCert
	}
	return cfg
}

// ClientConfig is the TLS configuration for dialing addr (host:port): the
// server's certificate must chain to the CA and name the host (an IP SAN
// for an IP address, a DNS SAN otherwise).
func (c *Credentials) ClientConfig(addr string) *tls.Config {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		Certificates:       []tls.Certificate{c.Cert},
		RootCAs:            c.CAs,
		ServerName:         host,
		NextProtos:         []string{ALPN},
		InsecureSkipVerify: c.Insecure,
	}
}

func newCA(name string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Bloom cluster"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

func serialNumber() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

// issue makes a certificate for name signed by the CA, with SANs from
// hosts (IP addresses and DNS names), usable as server and client.
func issue(ca *x509.Certificate, caKey *ecdsa.PrivateKey, name string, hosts []string, validity time.Duration) ([]byte, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name, Organization: []string{"Bloom cluster"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if ip := net.ParseIP(strings.Trim(h, "[]")); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	return der, key, err
}

// InitCA creates DIR/ca.pem and DIR/ca.key (ECDSA P-256, key mode 0600).
// It refuses to overwrite an existing CA.
func InitCA(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	certPath, keyPath := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key")
	for _, p := range []string{certPath, keyPath} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("%s already exists; not overwriting the cluster CA", p)
		}
	}
	cert, key, err := newCA("Bloom cluster CA")
	if err != nil {
		return err
	}
	if err := writeKey(keyPath, key); err != nil {
		return err
	}
	return writePEM(certPath, "CERTIFICATE", cert.Raw, 0o644)
}

// IssueCert creates DIR/NAME.pem and DIR/NAME.key, signed by the CA in DIR,
// with SANs from hosts, valid for validity.
func IssueCert(dir, name string, hosts []string, validity time.Duration) error {
	if name == "" || strings.ContainsAny(name, `/\`) || name == "ca" {
		return fmt.Errorf("bad certificate name %q", name)
	}
	ca, caKey, err := loadCA(dir)
	if err != nil {
		return err
	}
	der, key, err := issue(ca, caKey, name, hosts, validity)
	if err != nil {
		return err
	}
	if err := writeKey(filepath.Join(dir, name+".key"), key); err != nil {
		return err
	}
	// Only the leaf: every peer holds the CA certificate already.
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return os.WriteFile(filepath.Join(dir, name+".pem"), out, 0o644)
}

func loadCA(dir string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, "ca.key"))
	if err != nil {
		return nil, nil, err
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, nil, errors.New("ca.pem or ca.key holds no PEM block")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, nil, errors.New("ca.key is not an ECDSA key")
	}
	return cert, key, nil
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	return writePEM(path, "PRIVATE KEY", der, 0o600)
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if err := pem.Encode(f, &pem.Block{Type: typ, Bytes: der}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
