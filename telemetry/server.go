package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Server serves a process's HTTP endpoints. Create it with Serve; its
// owner calls Close.
type Server struct {
	srv  *http.Server
	addr string
	done chan struct{}
}

// Serve listens on addr (HOST:PORT; port 0 picks a free one) and serves h
// until Close. It returns once the listener is open, so a taken or invalid
// address fails the command at start, naming the address.
func Serve(addr string, h http.Handler, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("http.addr %s: %w", addr, err)
	}
	s := &Server{
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		},
		addr: l.Addr().String(),
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("HTTP server stopped", "addr", s.addr, "err", err)
		}
	}()
	log.Info("serving HTTP", "addr", s.addr, "endpoints", "/metrics /healthz /readyz")
	return s, nil
}

// Addr is the address listened on, with the port chosen for port 0.
func (s *Server) Addr() string { return s.addr }

// Close stops accepting connections, lets requests in flight finish for up
// to 5 seconds, and returns once the server has stopped.
func (s *Server) Close() error {
	if s == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	<-s.done
	return err
}
