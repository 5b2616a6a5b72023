package sink_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/internal/chlocal"
	"github.com/govlisten/govlisten/processors/sink"
)

// pki is a throw-away certificate authority with a server certificate for
// 127.0.0.1 and a client certificate, as PEM files in a directory.
type pki struct {
	ca, serverCert, serverKey, clientCert, clientKey, otherCA string
}

func newPKI(t *testing.T, dir string) pki {
	t.Helper()
	write := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	serial := int64(1)
	newCA := func(name string) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
		k := key()
		serial++
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c, k, der
	}
	ca, caKey, caDER := newCA("govlisten test CA")
	_, _, otherDER := newCA("someone else's CA")
	leaf := func(name string, usage x509.ExtKeyUsage, ips []net.IP) ([]byte, []byte) {
		k := key()
		serial++
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return der, kder
	}
	sDER, sKey := leaf("127.0.0.1", x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	cDER, cKey := leaf("govlisten", x509.ExtKeyUsageClientAuth, nil)
	return pki{
		ca: write("ca.pem", "CERTIFICATE", caDER), otherCA: write("other-ca.pem", "CERTIFICATE", otherDER),
		serverCert: write("server.pem", "CERTIFICATE", sDER), serverKey: write("server.key", "PRIVATE KEY", sKey),
		clientCert: write("client.pem", "CERTIFICATE", cDER), clientKey: write("client.key", "PRIVATE KEY", cKey),
	}
}

// tlsXML turns on the server's TLS port (config.d/ beside the main config
// is merged into it, on 18.16 as on current releases). Clients must show a
// certificate from the CA (verificationMode strict).
const tlsXML = `<?xml version="1.0"?>
<yandex>
  <tcp_port_secure>%d</tcp_port_secure>
  <openSSL><server>
    <certificateFile>%s</certificateFile>
    <privateKeyFile>%s</privateKeyFile>
    <caConfig>%s</caConfig>
    <verificationMode>strict</verificationMode>
    <loadDefaultCAFile>false</loadDefaultCAFile>
    <cacheSessions>false</cacheSessions>
    <disableProtocols>sslv2,sslv3</disableProtocols>
    <preferServerCiphers>true</preferServerCiphers>
  </server></openSSL>
</yandex>
`

// A private ClickHouse (Debian's 18.16 here) with a TLS port and a
// self-signed CA: govlisten connects over TLS with clickhouse.secure and
// clickhouse.tls, and with the DSN's secure=true; a plain connection to the
// TLS port, a server certificate from another CA and a missing client
// certificate all fail.
func TestClickHouseTLS(t *testing.T) {
	bin, err := chlocal.FindBinary(os.Getenv("GOVLISTEN_CLICKHOUSE_SERVER"))
	if err != nil {
		t.Fatalf("integration tests need a real ClickHouse: %v (run `make test`, which installs it)", err)
	}
	dir := t.TempDir()
	certs := newPKI(t, t.TempDir())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	if err := os.MkdirAll(filepath.Join(dir, "config.d"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.d", "tls.xml"),
		[]byte(fmt.Sprintf(tlsXML, port, certs.serverCert, certs.serverKey, certs.ca)), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := chlocal.Start(ctx, bin, dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(30 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("the TLS port %s did not open: %v\n%s", addr, err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}

	dsn := "clickhouse://" + addr + "/tlstest"
	open := func(dsn string, c config.ClickHouse) (*sink.Store, error) {
		cfg := config.Default()
		c.DSN, c.Compression = dsn, "lz4"
		cfg.ClickHouse = c
		st, err := sink.Open(ctx, &cfg, func(string) string { return "" })
		if err != nil {
			return nil, err
		}
		pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if err := st.Ping(pctx); err != nil {
			st.Close()
			return nil, err
		}
		return st, nil
	}
	client := config.TLS{CAFile: certs.ca, CertFile: certs.clientCert, KeyFile: certs.clientKey}

	st, err := open(dsn, config.ClickHouse{Secure: true, TLS: client})
	if err != nil {
		t.Fatalf("TLS with the CA and a client certificate: %v", err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate over TLS: %v", err)
	}
	var tables uint64
	if err := st.Conn().QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = 'tlstest'").Scan(&tables); err != nil || tables < 5 {
		t.Fatalf("reading over TLS: %d tables, %v", tables, err)
	}
	st.Close()

	// The DSN's secure=true&skip_verify=true, with the client certificate:
	// no CA needed.
	if st, err := open(dsn+"?secure=true&skip_verify=true", config.ClickHouse{TLS: config.TLS{CertFile: certs.clientCert, KeyFile: certs.clientKey}}); err != nil {
		t.Errorf("DSN secure=true&skip_verify=true: %v", err)
	} else {
		st.Close()
	}

	for name, c := range map[string]config.ClickHouse{
		"plain TCP to the TLS port":           {},
		"server certificate from another CA":  {Secure: true, TLS: config.TLS{CAFile: certs.otherCA, CertFile: certs.clientCert, KeyFile: certs.clientKey}},
		"system roots only":                   {Secure: true, TLS: config.TLS{CertFile: certs.clientCert, KeyFile: certs.clientKey}},
		"no client certificate (strict mode)": {Secure: true, TLS: config.TLS{CAFile: certs.ca}},
	} {
		if st, err := open(dsn, c); err == nil {
			st.Close()
			t.Errorf("%s: connected; want a failure", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}

	// The plain port of the same server still speaks plain TCP.
	if st, err := open(srv.DSN("tlstest"), config.ClickHouse{}); err != nil {
		t.Errorf("plain port: %v", err)
	} else {
		st.Close()
	}
}

func TestClickHouseTLSSettings(t *testing.T) {
	certs := newPKI(t, t.TempDir())
	for name, tc := range map[string]struct {
		c    config.ClickHouse
		want string
	}{
		"missing CA file": {config.ClickHouse{TLS: config.TLS{CAFile: "/nonexistent/ca.pem"}}, "clickhouse.tls.ca_file"},
		"CA file not PEM": {config.ClickHouse{TLS: config.TLS{CAFile: certs.clientKey + ".nope"}}, "clickhouse.tls.ca_file"},
		"key not cert":    {config.ClickHouse{TLS: config.TLS{CAFile: certs.serverKey}}, "no PEM certificate"},
		"cert, no key":    {config.ClickHouse{TLS: config.TLS{CertFile: certs.clientCert}}, "without clickhouse.tls.key_file"},
		"key, no cert":    {config.ClickHouse{TLS: config.TLS{KeyFile: certs.clientKey}}, "without clickhouse.tls.cert_file"},
		"mismatched pair": {config.ClickHouse{TLS: config.TLS{CertFile: certs.clientCert, KeyFile: certs.serverKey}}, "clickhouse.tls.cert_file / key_file"},
	} {
		cfg := config.Default()
		tc.c.DSN, tc.c.Compression = "clickhouse://127.0.0.1:1/x", "lz4"
		cfg.ClickHouse = tc.c
		_, err := sink.Open(context.Background(), &cfg, func(string) string { return "" })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want an error naming %q", name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "PRIVATE KEY") {
			t.Errorf("%s: the error shows key material: %v", name, err)
		}
	}
}
