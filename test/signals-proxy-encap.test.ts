// The proxy-tunnel and encapsulation signals on real captures from the public corpus, and
// the config keys that exempt a site's own proxies and overlays.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { CORPUS, corpusAlerts } from './helpers/cli';

const have = fs.existsSync(path.join(CORPUS, 'ja4__https-connect.pcap'));

const alertsOf = corpusAlerts;

t.test('HTTP CONNECT carrying TLS is a proxy tunnel unless the proxy is ours', { skip: !have },
  async (t) => {
    const [a, ...rest] = await alertsOf('ja4__https-connect.pcap');
    t.equal(rest.length, 0);
    t.equal(a.rule.id, 'AN1484');
    t.equal(a.tunnelhound.detection, 'proxy_tunnel');
    t.equal(a.destination.port, 8080);
    t.match(a.tunnelhound.evidence[0].value, /^http-connect to [^ ]+:443$/);
    t.equal(a.tunnelhound.evidence[0].config_key, 'assets.proxies');
    t.equal(a.tunnelhound.severity_label, 'low', 'TLS through a proxy: low');
    const ours = await alertsOf('ja4__https-connect.pcap',
      { assets: { proxies: [`${a.destination.ip}/32`] } });
    t.equal(ours.length, 0, 'the sanctioned proxy raises nothing');
  });

t.test('SOCKS on its own port carrying TLS', { skip: !have }, async (t) => {
  const docs = await alertsOf('ja4__socks-https-example.pcap');
  t.ok(docs.length >= 1);
  for (const d of docs) {
    t.equal(d.tunnelhound.detection, 'proxy_tunnel');
    t.match(d.rule.name, /through socks[45]$/);
  }
});

t.test('flows inside GRE/ERSPAN/VXLAN and 6in4 are encapsulated flows', { skip: !have },
  async (t) => {
    const vx = await alertsOf('ja4__gre-erspan-vxlan.pcap');
    t.same(vx.map((d) => d.tunnelhound.detection), ['encapsulated_flow']);
    t.equal(vx[0].tunnelhound.evidence[0].config_key, 'rules.encapsulation.allowed');
    t.equal(vx[0].tunnelhound.severity_label, 'low', 'an overlay: low');
    const six = await alertsOf('ndpi__6in4tunnel.pcap');
    t.ok(six.length >= 1);
    t.ok(six.every((d) => d.tunnelhound.evidence[0].value === '6in4'));
    t.ok(six.every((d) => d.tunnelhound.severity_label === 'medium'), 'a host tunnel: medium');
    const site = await alertsOf('ja4__gre-erspan-vxlan.pcap',
      { rules: { encapsulation: { allowed: ['vxlan', 'vxlan-gpe', 'erspan', 'gre'] } } });
    t.equal(site.length, 0, 'carriers the site runs itself raise nothing');
  });

t.test('GTP-U, Teredo and AYIYA flows are encapsulated flows', { skip: !have }, async (t) => {
  const carriers = (docs: Array<Record<string, any>>) =>
    [...new Set(docs.map((d) => `${d.tunnelhound.detection} ${d.rule.id} ` +
      `${d.tunnelhound.evidence[0].value} ${d.tunnelhound.severity_label}`))];
  // Mobile core: an ordinary overlay, low, and silent once the operator lists it.
  const gtp = await alertsOf('ndpi__ipv6_in_gtp.pcap');
  t.equal(gtp.length, 2, 'the UDP and the ESP flow inside');
  t.same(carriers(gtp), ['encapsulated_flow AN1484 gtp-u low']);
  t.same(gtp.map((d) => d.destination.ip).sort(), ['2a01:4c8:f000:f49::4',
    'fd00:976a:bc67:193e::7'], 'keyed on the inner IPv6 endpoints');
  const operator = await alertsOf('ndpi__ipv6_in_gtp.pcap',
    { rules: { encapsulation: { allowed: ['gtp-u'] } } });
  t.equal(operator.length, 0, 'gtp-u allowed: nothing');
  // Host IPv6 transition tunnels: medium, like 6in4.
  const teredo = await alertsOf('zeek__tunnels__Teredo.pcap');
  t.equal(teredo.length, 4, 'solicitation, advertisement, echo, bubble');
  t.same(carriers(teredo), ['encapsulated_flow AN1484 teredo medium']);
  const ayiya = await alertsOf('zeek__tunnels__ayiya3.pcap');
  t.same(carriers(ayiya), ['encapsulated_flow AN1484 ayiya medium']);
  const web = ayiya.find((d) => d.destination.port === 80);
  t.equal(web?.destination.ip, '2001:4860:b002::68', 'the HTTP flow inside AYIYA');
  t.ok(web?.tunnelhound.score > gtp[0].tunnelhound.score, 'host tunnels score higher');
  const allowed = await alertsOf('zeek__tunnels__ayiya3.pcap',
    { rules: { encapsulation: { allowed: ['ayiya', 'teredo'] } } });
  t.equal(allowed.length, 0, 'ayiya allowed: nothing');
});

t.test('VPN openings and Tor circuits are AN1485', { skip: !have }, async (t) => {
  const cases: Array<[string, string, string]> = [
    ['ndpi__wireguard.pcap', 'vpn_tunnel', 'wireguard'],
    ['ndpi__443-opvn.pcap', 'vpn_tunnel', 'openvpn'],
    ['ndpi__ipsec_isakmp_esp.pcap', 'vpn_tunnel', 'ikev2'],
    ['ndpi__tinc.pcap', 'vpn_tunnel', 'tinc'],
    ['ndpi__tailscale.pcap', 'vpn_tunnel', 'tailscale'],
  ];
  for (const [file, detection, protocol] of cases) {
    const docs = await alertsOf(file);
    const vpn = docs.filter((d) => d.tunnelhound.detection === detection);
    t.ok(vpn.length >= 1, `${file}: ${detection}`);
    t.ok(vpn.every((d) => d.rule.id === 'AN1485'));
    t.equal(vpn[0]?.tunnelhound.evidence[0].value, protocol, `${file}: ${protocol}`);
  }
  const tor = await alertsOf('ndpi__tor.pcap');
  t.ok(tor.length >= 5);
  t.ok(tor.every((d) => d.tunnelhound.detection === 'tor_circuit'));
  const wg = await alertsOf('ndpi__wireguard.pcap');
  const allowed = await alertsOf('ndpi__wireguard.pcap', { rules: { vpn: {
    allowedServers: [...new Set(wg.map((d) => `${d.destination.ip}/32`))] } } });
  t.equal(allowed.length, 0, 'a sanctioned VPN server raises nothing');
});
