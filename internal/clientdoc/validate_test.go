package clientdoc

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestIsMetadataURL(t *testing.T) {
	for id, want := range map[string]bool{
		"https://app.example/client.json": true,
		"HTTPS://app.example/c":           true,
		"http://127.0.0.1:8080/c":         true,
		"https:":                          false,
		"3f9c2a7e-client":                 false,
		"":                                false,
		"urn:example:client":              false,
		"ftp://app.example/c":             false,
	} {
		if got := IsMetadataURL(id); got != want {
			t.Errorf("IsMetadataURL(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	long := "https://app.example/" + strings.Repeat("a", maxURLLength-len("https://app.example/")+1)
	tests := []struct {
		url          string
		allowPrivate bool
		want         error // nil: accepted
	}{
		{"https://app.example/client.json", false, nil},
		{"https://app.example:8443/oauth/client", false, nil},
		{"https://app.example/a/b/c.json", false, nil},
		{"https://8.8.8.8/client", false, nil},
		{"https://[2606:4700::1]/client", false, nil},
		{"https://xn--bcher-kva.example/c", false, nil},
		{"https://0xproject.example/c", false, nil},
		{"https://app.example/%7Euser/c", false, nil},
		{long[:maxURLLength], false, nil},
		{long, false, ErrInvalidURL},
		{"", false, ErrInvalidURL},
		{"http://app.example/c", false, ErrInvalidURL},
		{"http://app.example/c", true, ErrInvalidURL}, // http only on loopback
		{"http://127.0.0.1:8080/c", false, ErrInvalidURL},
		{"http://127.0.0.1:8080/c", true, nil},
		{"http://localhost:8080/c", true, nil},
		{"http://[::1]:8080/c", true, nil},
		{"HTTPS://app.example/c", false, ErrInvalidURL},
		{"ftp://app.example/c", false, ErrInvalidURL},
		{"https:app.example/c", false, ErrInvalidURL},
		{"https://app.example", false, ErrInvalidURL},
		{"https://app.example/", false, ErrInvalidURL},
		{"https://app.example/c#frag", false, ErrInvalidURL},
		{"https://app.example/c#", false, ErrInvalidURL},
		{"https://app.example/c?x=1", false, ErrInvalidURL},
		{"https://app.example/c?", false, ErrInvalidURL},
		{"https://user@app.example/c", false, ErrInvalidURL},
		{"https://user:pw@app.example/c", false, ErrInvalidURL},
		{"https://app.example/./c", false, ErrInvalidURL},
		{"https://app.example/a/../c", false, ErrInvalidURL},
		{"https://app.example/a/..", false, ErrInvalidURL},
		{"https://app.example/a/%2e%2E/c", false, ErrInvalidURL},
		{"https://app.example/a/%2e/c", false, ErrInvalidURL},
		{"https://app.example/a b", false, ErrInvalidURL},
		{"https://app.example/a\x00", false, ErrInvalidURL},
		{"https://app.example/é", false, ErrInvalidURL},
		{"https://app.example/a\\b", false, ErrInvalidURL},
		{"https://app.example:0/c", false, ErrInvalidURL},
		{"https://app.example:70000/c", false, ErrInvalidURL},
		{"https://app.example:/c", false, ErrInvalidURL},
		{"https://app_1.example/c", false, ErrInvalidURL},
		{"https://app.example./c", false, ErrInvalidURL},
		{"https://-app.example/c", false, ErrInvalidURL},
		{"https://%61pp.example/c", false, ErrInvalidURL},
		{"https:///c", false, ErrInvalidURL},
		{"https://2130706433/c", false, ErrInvalidURL},
		{"https://0x7f000001/c", false, ErrInvalidURL},
		{"https://0x7f.1/c", false, ErrInvalidURL},
		{"https://127.1/c", false, ErrInvalidURL},
		{"https://app.123/c", false, ErrInvalidURL},
		{"https://[fe80::1%25eth0]/c", true, ErrInvalidURL},
		// IP literals are judged before anything is fetched.
		{"https://127.0.0.1/c", false, ErrForbiddenAddress},
		{"https://127.0.0.1/c", true, nil},
		{"https://[::1]/c", false, ErrForbiddenAddress},
		{"https://[::ffff:127.0.0.1]/c", false, ErrForbiddenAddress},
		{"https://[::ffff:a00:1]/c", false, ErrForbiddenAddress},
		{"https://10.0.0.1/c", false, ErrForbiddenAddress},
		{"https://169.254.169.254/latest/meta-data", false, ErrForbiddenAddress},
		{"https://[fd00:ec2::254]/c", false, ErrForbiddenAddress},
		{"https://0.0.0.0/c", false, ErrForbiddenAddress},
	}
	for _, tt := range tests {
		err := checkURL(tt.url, tt.allowPrivate)
		switch {
		case tt.want == nil && err != nil:
			t.Errorf("checkURL(%q, %v) = %v, want accepted", tt.url, tt.allowPrivate, err)
		case tt.want != nil && !errors.Is(err, tt.want):
			t.Errorf("checkURL(%q, %v) = %v, want %v", tt.url, tt.allowPrivate, err, tt.want)
		}
	}
}

func TestForbidden(t *testing.T) {
	refused := []string{
		"0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255", "100.64.0.1", "100.127.255.254",
		"127.0.0.1", "127.255.0.1", "169.254.169.254", "169.254.0.1", "172.16.0.1", "172.31.255.255",
		"192.0.0.8", "192.0.2.1", "192.88.99.1", "192.168.1.1", "198.18.0.1", "198.19.255.255",
		"198.51.100.7", "203.0.113.9", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
		"::", "::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1",
		"fc00::1", "fd12:3456::1", "fe80::1", "fe80::1%eth0", "fec0::1", "ff02::1", "100::1",
		"64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::1", "2002:7f00:1::1", "2002:a00:1::1",
		"2001::1", "2001:db8::1", "2001:2::1", "3fff::1",
	}
	allowed := []string{
		"8.8.8.8", "1.1.1.1", "100.63.255.255", "100.128.0.1", "172.15.255.255", "172.32.0.1",
		"192.169.0.1", "198.20.0.1", "223.255.255.255", "::ffff:8.8.8.8",
		"2606:4700::1111", "2a00:1450:4001::1", "64:ff9b::808:808", "2002:808:808::1",
	}
	for _, s := range refused {
		if a := netip.MustParseAddr(s); !forbidden(a) {
			t.Errorf("forbidden(%s) = false, want true", s)
		}
	}
	for _, s := range allowed {
		if a := netip.MustParseAddr(s); forbidden(a) {
			t.Errorf("forbidden(%s) = true, want false", s)
		}
	}
	if !forbidden(netip.Addr{}) {
		t.Error("the zero Addr is not forbidden")
	}
}

func TestRefuseForbidden(t *testing.T) {
	for _, c := range []struct{ network, address string }{
		{"tcp4", "127.0.0.1:443"}, {"tcp6", "[::1]:443"}, {"tcp4", "169.254.169.254:80"},
		{"tcp6", "[::ffff:127.0.0.1]:443"}, {"tcp4", "10.1.2.3:443"}, {"tcp6", "[fe80::1%eth0]:443"},
		{"udp4", "8.8.8.8:53"}, {"unix", "/run/x.sock"}, {"tcp4", "not-an-address"},
	} {
		if err := refuseForbidden(c.network, c.address, nil); !errors.Is(err, errForbiddenDial) {
			t.Errorf("refuseForbidden(%s, %s) = %v, want refused", c.network, c.address, err)
		}
	}
	for _, c := range []struct{ network, address string }{
		{"tcp4", "8.8.8.8:443"}, {"tcp6", "[2606:4700::1111]:443"},
	} {
		if err := refuseForbidden(c.network, c.address, nil); err != nil {
			t.Errorf("refuseForbidden(%s, %s) = %v, want allowed", c.network, c.address, err)
		}
	}
}

func TestCheckRedirectURI(t *testing.T) {
	ok := []string{
		"https://app.example/cb",
		"https://app.example:8443/oauth/callback?x=1",
		"https://127.0.0.1/cb",
		"http://127.0.0.1/cb",
		"http://127.0.0.1:33418/cb",
		"http://127.0.0.1",
		"http://[::1]:8080/cb",
		"http://localhost:3000/callback",
		"com.example.app:/oauth2redirect",
		"com.example.app:/cb",
		"com.example.app://cb/path",
		"io.github.user.tool:callback",
		"myapp:/cb",
		"cursor://anysphere.cursor-mcp/oauth/callback",
	}
	bad := []string{
		"",
		"/cb",
		"app.example/cb",
		"https://app.example/cb#x",
		"https://app.example/cb#",
		"com.example.app:/cb#frag",
		"https://user:pw@app.example/cb",
		"https://user@app.example/cb",
		"http://localhost@app.example/cb",
		"http://app.example/cb",
		"http://127.0.0.2/cb",
		"http://10.0.0.1/cb",
		"http://[::ffff:127.0.0.1]/cb",
		"http://localhost.app.example/cb",
		"http:/cb",
		"https:///cb",
		"https:cb",
		"HTTPS://app.example/cb",
		"Com.Example.App:/cb",
		"javascript:alert(1)",
		"data:text/html,hi",
		"file:///etc/passwd",
		"vbscript:x",
		"blob:https://app.example/x",
		"about:blank",
		"com.example.app:",
		"https://app.example/a b",
		"https://app.example/\x7f",
		"https://app.example/é",
		"https://app.example/<script>",
		"https://app.example/" + strings.Repeat("a", maxURLLength),
	}
	for _, u := range ok {
		if err := CheckRedirectURI(u); err != nil {
			t.Errorf("CheckRedirectURI(%q) = %v, want accepted", u, err)
		}
	}
	for _, u := range bad {
		err := CheckRedirectURI(u)
		if !errors.Is(err, ErrInvalidDocument) {
			t.Errorf("CheckRedirectURI(%q) = %v, want refused", u, err)
			continue
		}
		var e *Error
		if !errors.As(err, &e) || err.Error() != e.Description || e.Description == "" {
			t.Errorf("CheckRedirectURI(%q): Error() %q is not the fixed description", u, err)
		}
		if len(u) > 4 && strings.Contains(err.Error(), u) {
			t.Errorf("CheckRedirectURI(%q): the error quotes the URI: %q", u, err)
		}
	}
}

const testID = "https://app.example/client.json"

func TestParseDocument(t *testing.T) {
	d, err := parseDocument([]byte(`{
		"client_id": "https://app.example/client.json",
		"client_name": "  Example\u202e App\t\n ",
		"client_uri": "https://app.example/",
		"logo_uri": "http://app.example/logo.png",
		"redirect_uris": ["https://app.example/cb", "http://127.0.0.1:9000/cb", "com.example.app:/cb"],
		"grant_types": ["refresh_token", "authorization_code"],
		"response_types": ["code"],
		"token_endpoint_auth_method": "none",
		"scope": "read",
		"software_id": "x"
	}`), testID)
	if err != nil {
		t.Fatal(err)
	}
	if d.ClientID != testID || d.ClientName != "Example App" || d.ClientURI != "https://app.example/" || d.LogoURI != "" {
		t.Errorf("document = %+v", d)
	}
	if len(d.RedirectURIs) != 3 || d.RedirectURIs[2] != "com.example.app:/cb" {
		t.Errorf("RedirectURIs = %q", d.RedirectURIs)
	}
	if strings.Join(d.GrantTypes, ",") != "authorization_code,refresh_token" {
		t.Errorf("GrantTypes = %q", d.GrantTypes)
	}

	d, err = parseDocument([]byte(`{"client_id":"`+testID+`","redirect_uris":["https://app.example/cb"],"token_endpoint_auth_method":null,"client_name":null}`), testID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(d.GrantTypes, ",") != "authorization_code" || d.ClientName != "" {
		t.Errorf("defaults: %+v", d)
	}
}

func TestParseDocumentRefusals(t *testing.T) {
	const redirect = `"redirect_uris":["https://app.example/cb"]`
	const id = `"client_id":"` + testID + `"`
	tests := []struct {
		name, body, desc string
	}{
		{"not json", `{"client_id":`, descNotObject},
		{"array", `[` + `{` + id + `,` + redirect + `}]`, descNotObject},
		{"string", `"` + testID + `"`, descNotObject},
		{"null", `null`, descNotObject},
		{"empty", ``, descNotObject},
		{"trailing data", `{` + id + `,` + redirect + `} {}`, descNotObject},
		{"invalid utf-8", `{` + id + `,` + redirect + `,"client_name":"` + "\xff" + `"}`, "UTF-8"},
		{"duplicate client_id", `{` + id + `,"client_id":"https://evil.example/c",` + redirect + `}`, "twice"},
		{"duplicate by escape", `{` + id + `,"client\u005fid":"https://evil.example/c",` + redirect + `}`, "twice"},
		{"no client_id", `{` + redirect + `}`, "has no client_id"},
		{"null client_id", `{"client_id":null,` + redirect + `}`, "has no client_id"},
		{"numeric client_id", `{"client_id":1,` + redirect + `}`, "not a string"},
		{"other client_id", `{"client_id":"https://app.example/other.json",` + redirect + `}`, "does not match its URL"},
		{"client_id trailing slash", `{"client_id":"` + testID + `/",` + redirect + `}`, "does not match its URL"},
		{"client_id case", `{"client_id":"https://APP.example/client.json",` + redirect + `}`, "does not match its URL"},
		{"client_id case of name", `{"Client_ID":"` + testID + `",` + redirect + `}`, "has no client_id"},
		{"client_secret", `{` + id + `,` + redirect + `,"client_secret":"s3cret"}`, "client_secret"},
		{"null client_secret", `{` + id + `,` + redirect + `,"client_secret":null}`, "client_secret"},
		{"client_secret_expires_at", `{` + id + `,` + redirect + `,"client_secret_expires_at":0}`, "client_secret_expires_at"},
		{"client_secret_basic", `{` + id + `,` + redirect + `,"token_endpoint_auth_method":"client_secret_basic"}`, "shared secret"},
		{"client_secret_post", `{` + id + `,` + redirect + `,"token_endpoint_auth_method":"client_secret_post"}`, "shared secret"},
		{"client_secret_jwt", `{` + id + `,` + redirect + `,"token_endpoint_auth_method":"client_secret_jwt"}`, "shared secret"},
		{"private_key_jwt", `{` + id + `,` + redirect + `,"token_endpoint_auth_method":"private_key_jwt"}`, "private_key_jwt is not supported"},
		{"tls_client_auth", `{` + id + `,` + redirect + `,"token_endpoint_auth_method":"tls_client_auth"}`, "not supported"},
		{"auth method type", `{` + id + `,` + redirect + `,"token_endpoint_auth_method":["none"]}`, "not a string"},
		{"no redirect_uris", `{` + id + `}`, "no redirect_uris"},
		{"null redirect_uris", `{` + id + `,"redirect_uris":null}`, "no redirect_uris"},
		{"empty redirect_uris", `{` + id + `,"redirect_uris":[]}`, "no redirect_uris"},
		{"string redirect_uris", `{` + id + `,"redirect_uris":"https://app.example/cb"}`, "not an array"},
		{"too many redirect_uris", `{` + id + `,"redirect_uris":[` + strings.TrimSuffix(strings.Repeat(`"https://app.example/cb",`, maxRedirectURIs+1), ",") + `]}`, "more than 32"},
		{"null redirect uri", `{` + id + `,"redirect_uris":[null]}`, "is empty"},
		{"fragment redirect", `{` + id + `,"redirect_uris":["https://app.example/cb#x"]}`, "fragment"},
		{"relative redirect", `{` + id + `,"redirect_uris":["/cb"]}`, "absolute"},
		{"http redirect", `{` + id + `,"redirect_uris":["https://app.example/cb","http://app.example/cb"]}`, "loopback"},
		{"javascript redirect", `{` + id + `,"redirect_uris":["javascript:alert(1)"]}`, "private-use scheme"},
		{"userinfo redirect", `{` + id + `,"redirect_uris":["https://a@app.example/cb"]}`, "username"},
		{"grant implicit", `{` + id + `,` + redirect + `,"grant_types":["authorization_code","implicit"]}`, "may hold only"},
		{"grant client_credentials", `{` + id + `,` + redirect + `,"grant_types":["client_credentials"]}`, "may hold only"},
		{"grant refresh only", `{` + id + `,` + redirect + `,"grant_types":["refresh_token"]}`, "must include"},
		{"grant empty", `{` + id + `,` + redirect + `,"grant_types":[]}`, "must include"},
		{"grant type", `{` + id + `,` + redirect + `,"grant_types":"authorization_code"}`, "not an array"},
		{"response token", `{` + id + `,` + redirect + `,"response_types":["token"]}`, `["code"]`},
		{"response two", `{` + id + `,` + redirect + `,"response_types":["code","token"]}`, `["code"]`},
		{"response empty", `{` + id + `,` + redirect + `,"response_types":[]}`, `["code"]`},
		{"client_name type", `{` + id + `,` + redirect + `,"client_name":{"en":"x"}}`, "client_name is not a string"},
	}
	for _, tt := range tests {
		secret := "s3cret-body-marker"
		d, err := parseDocument([]byte(tt.body), testID)
		if err == nil {
			t.Errorf("%s: accepted %+v", tt.name, d)
			continue
		}
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, ErrInvalidDocument) {
			t.Errorf("%s: error %v is not an ErrInvalidDocument *Error", tt.name, err)
			continue
		}
		if !strings.Contains(e.Description, tt.desc) {
			t.Errorf("%s: description %q does not say %q", tt.name, e.Description, tt.desc)
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "evil") {
			t.Errorf("%s: error %q quotes the body", tt.name, err)
		}
	}
}

func TestCleanName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Example App", "Example App"},
		{"  Example \t\n App  ", "Example App"},
		{"Example\u00a0\u3000App", "Example App"},
		{"Paypal\u202e\u2066\u200f", "Paypal"},
		{"Good\u200bApp\u200d\ufeff", "GoodApp"},
		{"Ap\u00adp", "App"},
		{"A\x00B\x1bC\x7fD\u0085E", "ABCD E"},
		{"Tag\U000E0041\U000E0042s", "Tags"},
		{"Private\ue000Use", "PrivateUse"},
		{"Hangul\u3164\u115f\u1160\uffa0Filler", "HangulFiller"},
		{"Braille\u2800Blank", "BrailleBlank"},
		{"Var\ufe00Sel", "VarSel"},
		{"Emoji \u2764\ufe0f", "Emoji \u2764\ufe0f"},
		{"Café", "Café"},
		{"Cafe\u0301", "Cafe\u0301"},
		{"\u0301\u0301Start", "Start"},
		{"Z\u0301\u0302\u0303\u0304\u0305alg", "Z\u0301\u0302\u0303alg"},
		{"A \u0301B", "A B"},
		{"日本語のアプリ", "日本語のアプリ"},
		{"bad\xffutf8", "badutf8"},
		{"\u200b\u202e ", ""},
		{"", ""},
		{"Line\u2028Sep\u2029Para", "Line Sep Para"},
		{"Obj\ufffcRep\ufffd", "ObjRep"},
		{strings.Repeat("a", 150), strings.Repeat("a", 100)},
		{strings.Repeat("é", 150), strings.Repeat("é", 100)},
		{strings.Repeat("a", 99) + " b", strings.Repeat("a", 99)},
		{strings.Repeat("a", 98) + " b", strings.Repeat("a", 98) + " b"},
	}
	for _, tt := range tests {
		if got := CleanName(tt.in); got != tt.want {
			t.Errorf("CleanName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// checkName reports what is wrong with a cleaned name, if anything.
func checkName(t *testing.T, name string) {
	t.Helper()
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxNameRunes || strings.TrimSpace(name) != name {
		t.Fatalf("cleaned name %q is invalid, too long or untrimmed", name)
	}
	for _, r := range name {
		if r != ' ' && (!unicode.IsPrint(r) || unicode.IsSpace(r) || hidden(r)) {
			t.Fatalf("cleaned name %q holds %U", name, r)
		}
	}
	if CleanName(name) != name {
		t.Fatalf("CleanName is not idempotent on %q", name)
	}
}

func FuzzParseDocument(f *testing.F) {
	f.Add([]byte(`{"client_id":"`+testID+`","client_name":"App","redirect_uris":["https://app.example/cb"]}`), testID)
	f.Add([]byte(`{"client_id":"`+testID+`","redirect_uris":["http://127.0.0.1:1/cb","com.example.app:/x"],"grant_types":["authorization_code","refresh_token"],"response_types":["code"],"token_endpoint_auth_method":"none","client_uri":"https://app.example","logo_uri":"https://app.example/l.png"}`), testID)
	f.Add([]byte(`{"client_id":"https://x.example/c","redirect_uris":["https://x.example/cb"],"client_name":"\u202eevil\u0301\u0301\u0301\u0301"}`), "https://x.example/c")
	f.Add([]byte(`{"client_id":"`+testID+`","redirect_uris":[],"client_secret":"x"}`), testID)
	f.Add([]byte(`[1,2,3]`), testID)
	f.Add([]byte(`{"a":{"b":[{"c":null}]},"client_id":"x"}`), "x")
	f.Fuzz(func(t *testing.T, body []byte, clientID string) {
		d, err := parseDocument(body, clientID)
		if err != nil {
			var e *Error
			if d != nil || !errors.As(err, &e) || !errors.Is(err, ErrInvalidDocument) || e.Description == "" {
				t.Fatalf("refusal %v (document %v) is not an ErrInvalidDocument *Error", err, d)
			}
			return
		}
		if d.ClientID != clientID {
			t.Fatalf("accepted client_id %q for URL %q", d.ClientID, clientID)
		}
		if len(d.RedirectURIs) == 0 || len(d.RedirectURIs) > maxRedirectURIs {
			t.Fatalf("accepted %d redirect URIs", len(d.RedirectURIs))
		}
		for _, u := range d.RedirectURIs {
			if err := CheckRedirectURI(u); err != nil {
				t.Fatalf("accepted redirect URI %q: %v", u, err)
			}
		}
		if len(d.GrantTypes) == 0 || d.GrantTypes[0] != "authorization_code" {
			t.Fatalf("grant types %q", d.GrantTypes)
		}
		for _, u := range []string{d.ClientURI, d.LogoURI} {
			if u != "" && !strings.HasPrefix(u, "https://") {
				t.Fatalf("kept a non-https URI %q", u)
			}
		}
		checkName(t, d.ClientName)
	})
}

func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{testID, "https://127.0.0.1/c", "https://[::ffff:7f00:1]/c", "https://a.example/a/%2e%2e/b", "http://localhost/c", "https://0x7f.1/c"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, raw string, allowPrivate bool) {
		err := checkURL(raw, allowPrivate)
		if err != nil {
			if !errors.Is(err, ErrInvalidURL) && !errors.Is(err, ErrForbiddenAddress) {
				t.Fatalf("checkURL(%q) = %v of no kind", raw, err)
			}
			if len(err.Error()) > 1000 {
				t.Fatalf("error text of %d bytes", len(err.Error()))
			}
			return
		}
		if !IsMetadataURL(raw) || len(raw) > maxURLLength || strings.ContainsAny(raw, "?# \\") {
			t.Fatalf("accepted %q", raw)
		}
		if !allowPrivate && !strings.HasPrefix(raw, "https://") {
			t.Fatalf("accepted a non-https %q", raw)
		}
	})
}
