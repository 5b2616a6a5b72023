package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// secret is what a webhook URL's path and query carry.
const secret = "SeCrEtToKeN0123456789"

func TestSlackBody(t *testing.T) {
	b := slackBody(Message{
		Title:      "Spike: HM Revenue & Customs <b>",
		Summary:    "Spike <!channel>",
		Paragraphs: []string{"a < b & c > d"},
		Facts:      []Fact{{"Words", "tax, <@U123>"}},
		Links:      []Link{{"post | one", "https://x.com/a|b>c"}, {"not a link", "javascript:alert(1)"}},
		Footer:     "id",
	})
	raw, _ := json.Marshal(b)
	var got struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
			Text struct {
				Type, Text string
			} `json:"text"`
			Fields []struct{ Type, Text string } `json:"fields"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if got.Text != "Spike &lt;!channel&gt;" {
		t.Errorf("text %q: a message must not mention the channel", got.Text)
	}
	want := []string{"header", "section", "section", "section", "context"}
	if len(got.Blocks) != len(want) {
		t.Fatalf("blocks: %s", raw)
	}
	for i, w := range want {
		if got.Blocks[i].Type != w {
			t.Fatalf("block %d is %s, want %s: %s", i, got.Blocks[i].Type, w, raw)
		}
	}
	if got.Blocks[0].Text.Type != "plain_text" || got.Blocks[0].Text.Text != "Spike: HM Revenue & Customs <b>" {
		t.Errorf("header %+v (plain text is not escaped)", got.Blocks[0].Text)
	}
	if got.Blocks[1].Text.Text != "a &lt; b &amp; c &gt; d" {
		t.Errorf("paragraph %q", got.Blocks[1].Text.Text)
	}
	if got.Blocks[2].Fields[0].Text != "*Words*\ntax, &lt;@U123&gt;" {
		t.Errorf("field %q", got.Blocks[2].Fields[0].Text)
	}
	if l := got.Blocks[3].Text.Text; l != "• <https://x.com/a%7Cb%3Ec|post | one>\n• not a link\n" {
		t.Errorf("links %q", l)
	}
}

func TestTeamsBody(t *testing.T) {
	raw, _ := json.Marshal(teamsBody(Message{
		Title: "Spike: [x](https://evil.example)", Summary: "s", Paragraphs: []string{"p"},
		Facts: []Fact{{"Mentions", "40"}}, Links: []Link{{"post", "https://x.com/a (b)"}},
	}))
	var got struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string `json:"contentType"`
			Content     struct {
				Type, Version string
				Body          []map[string]any
			} `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if got.Type != "message" || len(got.Attachments) != 1 || got.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" ||
		got.Attachments[0].Content.Type != "AdaptiveCard" || got.Attachments[0].Content.Version != "1.4" {
		t.Fatalf("teams message: %s", raw)
	}
	body := got.Attachments[0].Content.Body
	if body[0]["text"] != "Spike: (x)(https://evil.example)" {
		t.Errorf("title %q can form a link", body[0]["text"])
	}
	if body[2]["type"] != "FactSet" || body[3]["text"] != "- [post](https://x.com/a%20%28b%29)" {
		t.Errorf("body: %s", raw)
	}
}

func TestPostAccepts2xx(t *testing.T) {
	for _, status := range []int{200, 202, 204} {
		var got atomic.Value
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			got.Store(r.Header.Get("Content-Type") + " " + string(b))
			w.WriteHeader(status)
		}))
		c, err := New(srv.URL+"/services/T0/B0/"+secret, Slack, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Post(context.Background(), Message{Title: "t", Summary: "hello"}); err != nil {
			t.Errorf("status %d: %v", status, err)
		}
		if s, _ := got.Load().(string); !strings.HasPrefix(s, "application/json") || !strings.Contains(s, `"text":"hello"`) {
			t.Errorf("request: %s", s)
		}
		srv.Close()
	}
}

// No error names more of the URL than scheme and host: not the path, not
// the query, whatever went wrong.
func TestErrorsNeverCarryTheURL(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		switch {
		case strings.Contains(r.URL.Path, "redirect"):
			http.Redirect(w, r, "http://127.0.0.1:1/elsewhere?"+r.URL.RawQuery, http.StatusFound)
		case strings.Contains(r.URL.Path, "slow"):
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		default: // an error page that quotes the request, as some proxies do
			http.Error(w, "no such webhook: "+r.URL.String(), http.StatusNotFound)
		}
	}))
	defer echo.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	for name, u := range map[string]string{
		"404 quoting the URL":  echo.URL + "/services/T0/B0/" + secret + "?token=" + secret,
		"teams query":          echo.URL + "/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=" + secret,
		"redirect":             echo.URL + "/redirect/" + secret + "?sig=" + secret,
		"timeout":              echo.URL + "/slow/" + secret,
		"connection refused":   closedURL + "/services/" + secret,
		"no answer":            "http://" + l.Addr().String() + "/services/" + secret,
		"user info and secret": strings.Replace(echo.URL, "http://", "http://user:"+secret+"@", 1) + "/x/" + secret,
	} {
		c, err := New(u, Teams, 300*time.Millisecond)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		err = c.Post(context.Background(), Message{Title: "t"})
		if err == nil {
			t.Errorf("%s: posted", name)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(c.String(), secret) {
			t.Errorf("%s: error carries the secret: %v", name, err)
		}
		if name == "404 quoting the URL" && !errors.Is(err, ErrStatus) {
			t.Errorf("%s: %v is not ErrStatus", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
	for _, bad := range []string{"ftp://hooks.example/" + secret, "hooks.example/" + secret, "http://[::1/" + secret, ""} {
		if _, err := New(bad, Slack, 0); err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("New(%q) = %v", bad, err)
		}
	}
	if _, err := New("https://hooks.example/x", "discord", 0); err == nil {
		t.Error("an unknown format is accepted")
	}
}
