package sink

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"

	"github.com/govlisten/govlisten/config"
)

// clientTLS is the TLS configuration of the ClickHouse connection, built
// with the standard library's crypto/tls (what clickhouse-go takes):
//
//   - plain TCP (nil) unless clickhouse.secure is true, a clickhouse.tls
//     file is set, or the DSN says secure=true (fromDSN, as clickhouse-go
//     parsed it, with its skip_verify and tls_server_name);
//   - the server's certificate is checked against clickhouse.tls.ca_file,
//     or the system's roots when none is given, for the DSN's host name;
//   - clickhouse.tls.cert_file and key_file, both or neither, are the
//     client certificate for servers that ask for one.
//
// Errors name the setting and the file, never a key's contents.
func clientTLS(c config.ClickHouse, fromDSN *tls.Config) (*tls.Config, error) {
	t := c.TLS
	if !c.Secure && t == (config.TLS{}) {
		return fromDSN, nil
	}
	out := &tls.Config{MinVersion: tls.VersionTLS12}
	if fromDSN != nil {
		out.InsecureSkipVerify = fromDSN.InsecureSkipVerify
		out.ServerName = fromDSN.ServerName
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(filepath.Clean(t.CAFile))
		if err != nil {
			return nil, fmt.Errorf("clickhouse.tls.ca_file: %w", err)
		}
		out.RootCAs = x509.NewCertPool()
		if !out.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("clickhouse.tls.ca_file %s: no PEM certificate in it", t.CAFile)
		}
	}
	switch {
	case t.CertFile != "" && t.KeyFile != "":
		cert, err := tls.LoadX509KeyPair(filepath.Clean(t.CertFile), filepath.Clean(t.KeyFile))
		if err != nil {
			return nil, fmt.Errorf("clickhouse.tls.cert_file / key_file: %w", err)
		}
		out.Certificates = []tls.Certificate{cert}
	case t.CertFile != "":
		return nil, fmt.Errorf("clickhouse.tls.cert_file is set without clickhouse.tls.key_file")
	case t.KeyFile != "":
		return nil, fmt.Errorf("clickhouse.tls.key_file is set without clickhouse.tls.cert_file")
	}
	return out, nil
}
