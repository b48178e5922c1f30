package webapp

import "html/template"

const layout = `{{define "head"}}<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}} · cognitoguard web app</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<header><span class="brand">cognitoguard</span> web app example</header>
<main>{{end}}
{{define "foot"}}</main>
</body>
</html>
{{end}}`

var loginTmpl = template.Must(template.New("login").Parse(layout + `{{template "head" "Sign in"}}
<h1>Sign in</h1>
{{with .Notice}}<p class="notice" id="notice">{{.}}</p>{{end}}
{{with .Error}}<p class="error" id="error" role="alert">{{.}}</p>{{end}}
<form method="post" action="/login" id="login-form">
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" required value="{{.Username}}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" id="login">Sign in</button>
</form>
{{template "foot"}}`))

var appTmpl = template.Must(template.New("app").Parse(layout + `{{template "head" "Your account"}}
<h1 id="welcome">Signed in as {{.C.Username}}</h1>
<p>This page is protected by <code>middleware.New</code> reading the token from the
<code>__Host-cognitoguard-access</code> cookie. Signing out is honoured at once by every
service sharing the revocation store, although Cognito's access token itself stays valid
until it expires.</p>
<table id="claims">
<tr><th>sub</th><td>{{.C.Subject}}</td></tr>
<tr><th>username</th><td>{{.C.Username}}</td></tr>
<tr><th>token_use</th><td>{{.C.TokenUse}}</td></tr>
<tr><th>client_id</th><td>{{.C.ClientID}}</td></tr>
<tr><th>scope</th><td>{{range $i, $s := .C.Scopes}}{{if $i}} {{end}}{{$s}}{{end}}</td></tr>
<tr><th>groups</th><td>{{range $i, $g := .C.Groups}}{{if $i}}, {{end}}{{$g}}{{else}}—{{end}}</td></tr>
<tr><th>signed in</th><td>{{.C.AuthTime.UTC.Format "2006-01-02 15:04:05 MST"}}</td></tr>
<tr><th>token expires</th><td>{{.C.Expiry.UTC.Format "2006-01-02 15:04:05 MST"}}</td></tr>
</table>
<form method="post" action="/logout" id="logout-form">
<button type="submit" id="logout">Sign out everywhere</button>
</form>
{{template "foot"}}`))

type messageData struct {
	Title, Text string
}

var messageTmpl = template.Must(template.New("message").Parse(layout + `{{template "head" .Title}}
<h1>{{.Title}}</h1>
<p>{{.Text}}</p>
<p><a href="/login">Sign in</a></p>
{{template "foot"}}`))

const styleCSS = `body{font-family:system-ui,sans-serif;margin:0;background:#f5f6f8;color:#1d2330}
header{background:#232f3e;color:#fff;padding:.8rem 1.5rem}
.brand{font-weight:700;color:#ff9900;margin-right:.4rem}
main{max-width:40rem;margin:2rem auto;background:#fff;padding:1.5rem 2rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.1)}
h1{font-size:1.4rem;margin-top:0}
label{display:block;margin-top:.8rem;font-weight:600}
input{width:100%;box-sizing:border-box;padding:.5rem;margin-top:.3rem;border:1px solid #b8bfcc;border-radius:4px}
button{margin-top:1.2rem;padding:.55rem 1.2rem;border:0;border-radius:4px;background:#ff9900;color:#1d2330;font-weight:700;cursor:pointer}
table{border-collapse:collapse;width:100%;margin:1rem 0}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e6eb;font-size:.9rem;word-break:break-all}
th{width:9rem;color:#5a6475}
.error{color:#b00020}
.notice{color:#1b6e3a}
code{background:#eef0f3;padding:0 .2rem;border-radius:3px}
`
