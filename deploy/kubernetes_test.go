package deploy_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/govlisten/govlisten/config"
)

// k8sObject is the part of a manifest the checks read.
type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec       map[string]any    `yaml:"spec"`
	StringData map[string]string `yaml:"stringData"`
	Data       map[string]string `yaml:"data"`
	file       string
}

type k8sPodSpec struct {
	SecurityContext struct {
		RunAsNonRoot *bool `yaml:"runAsNonRoot"`
		RunAsUser    int   `yaml:"runAsUser"`
	} `yaml:"securityContext"`
	InitContainers []k8sContainer `yaml:"initContainers"`
	Containers     []k8sContainer `yaml:"containers"`
	Volumes        []struct {
		Name      string         `yaml:"name"`
		Secret    map[string]any `yaml:"secret"`
		ConfigMap *struct {
			Name string `yaml:"name"`
		} `yaml:"configMap"`
	} `yaml:"volumes"`
}

type k8sContainer struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Env   []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			SecretKeyRef *struct {
				Name string `yaml:"name"`
				Key  string `yaml:"key"`
			} `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
	LivenessProbe  map[string]any `yaml:"livenessProbe"`
	ReadinessProbe map[string]any `yaml:"readinessProbe"`
	VolumeMounts   []struct {
		Name string `yaml:"name"`
	} `yaml:"volumeMounts"`
}

func readManifests(t *testing.T, files ...string) []k8sObject {
	t.Helper()
	var out []k8sObject
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var o k8sObject
			err := dec.Decode(&o)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if o.Kind == "" {
				continue
			}
			o.file = f
			out = append(out, o)
		}
	}
	return out
}

// podSpec digs the pod template out of a workload.
func podSpec(t *testing.T, o k8sObject) *k8sPodSpec {
	t.Helper()
	var tmpl any
	switch o.Kind {
	case "Deployment", "StatefulSet", "Job":
		tmpl = o.Spec["template"]
	case "CronJob":
		tmpl = o.Spec["jobTemplate"].(map[string]any)["spec"].(map[string]any)["template"]
	default:
		return nil
	}
	b, err := yaml.Marshal(tmpl.(map[string]any)["spec"])
	if err != nil {
		t.Fatal(err)
	}
	var ps k8sPodSpec
	if err := yaml.Unmarshal(b, &ps); err != nil {
		t.Fatalf("%s %s: %v", o.Kind, o.Metadata.Name, err)
	}
	return &ps
}

// The Kubernetes manifests, read as data (kustomize and kubectl are not
// needed): what kustomization.yaml lists exists and parses; every workload
// runs as non-root on a read-only root file system without capabilities,
// with requests and limits; long-running ones have liveness and readiness
// probes (govlisten's on /healthz and /readyz) and a PodDisruptionBudget;
// every secretKeyRef names a key of secret.example.yaml, which holds no
// values, and no env var carries a secret inline; NATS and ClickHouse are
// reachable only by the pods that need them; processors scale on the
// consumer's lag; and the govlisten config loads.
func TestKubernetesManifests(t *testing.T) {
	var kust struct {
		Resources          []string `yaml:"resources"`
		ConfigMapGenerator []struct {
			Name  string   `yaml:"name"`
			Files []string `yaml:"files"`
		} `yaml:"configMapGenerator"`
	}
	b, err := os.ReadFile("kubernetes/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &kust); err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, r := range kust.Resources {
		files = append(files, filepath.Join("kubernetes", r))
	}
	configMaps := map[string]bool{}
	for _, g := range kust.ConfigMapGenerator {
		configMaps[g.Name] = true
		for _, f := range g.Files {
			if _, err := os.Stat(filepath.Join("kubernetes", f)); err != nil {
				t.Errorf("configMapGenerator %s: %v", g.Name, err)
			}
		}
	}
	alternatives, _ := filepath.Glob("kubernetes/alternatives/*.yaml")
	objs := readManifests(t, append(files, alternatives...)...)

	secret := readManifests(t, "kubernetes/secret.example.yaml")
	if len(secret) != 1 || secret[0].Kind != "Secret" || secret[0].Metadata.Name != "govlisten" {
		t.Fatalf("secret.example.yaml: want one Secret govlisten, got %+v", secret)
	}
	for k, v := range secret[0].StringData {
		if v != "" {
			t.Errorf("secret.example.yaml holds a value for %s", k)
		}
	}
	if len(secret[0].Data) > 0 {
		t.Error("secret.example.yaml has data")
	}
	if slices.Contains(kust.Resources, "secret.example.yaml") {
		t.Error("the example Secret must not be applied")
	}

	secretish := regexp.MustCompile(`(?i)(PASSWORD|TOKEN|SECRET|API_KEY|WEBHOOK_URL)$`)
	kinds := map[string][]k8sObject{}
	for _, o := range objs {
		kinds[o.Kind] = append(kinds[o.Kind], o)
	}
	for _, o := range objs {
		ps := podSpec(t, o)
		if ps == nil {
			continue
		}
		where := o.file + ": " + o.Kind + " " + o.Metadata.Name
		if ps.SecurityContext.RunAsNonRoot == nil || !*ps.SecurityContext.RunAsNonRoot || ps.SecurityContext.RunAsUser == 0 {
			t.Errorf("%s: pod does not run as a non-root user", where)
		}
		longRunning := o.Kind == "Deployment" || o.Kind == "StatefulSet"
		for i, c := range append(ps.InitContainers, ps.Containers...) {
			init := i < len(ps.InitContainers)
			for _, r := range []string{"cpu", "memory"} {
				if c.Resources.Requests[r] == "" || c.Resources.Limits[r] == "" {
					t.Errorf("%s, container %s: no %s request and limit", where, c.Name, r)
				}
			}
			sc := c.SecurityContext
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || !slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) {
				t.Errorf("%s, container %s: securityContext must forbid privilege escalation, make the root file system read-only and drop ALL", where, c.Name)
			}
			if longRunning && !init && (c.LivenessProbe == nil || c.ReadinessProbe == nil) {
				t.Errorf("%s, container %s: no liveness and readiness probes", where, c.Name)
			}
			if c.Image == "govlisten" {
				if longRunning && (probePath(c.LivenessProbe) != "/healthz" || probePath(c.ReadinessProbe) != "/readyz") {
					t.Errorf("%s: probes %q and %q, want /healthz and /readyz", where, probePath(c.LivenessProbe), probePath(c.ReadinessProbe))
				}
				if !slices.ContainsFunc(c.Env, func(e struct {
					Name      string `yaml:"name"`
					Value     string `yaml:"value"`
					ValueFrom *struct {
						SecretKeyRef *struct {
							Name string `yaml:"name"`
							Key  string `yaml:"key"`
						} `yaml:"secretKeyRef"`
					} `yaml:"valueFrom"`
				}) bool {
					return e.Name == "GOVLISTEN_CONFIG" && e.Value == "/etc/govlisten/govlisten.yaml"
				}) {
					t.Errorf("%s: GOVLISTEN_CONFIG is not the mounted config", where)
				}
			}
			for _, e := range c.Env {
				if secretish.MatchString(e.Name) && (e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
					t.Errorf("%s: %s does not come from a Secret", where, e.Name)
				}
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					ref := e.ValueFrom.SecretKeyRef
					if _, ok := secret[0].StringData[ref.Key]; ref.Name != "govlisten" || !ok {
						t.Errorf("%s: %s from secret %s key %s, which secret.example.yaml lacks", where, e.Name, ref.Name, ref.Key)
					}
				}
			}
		}
		for _, v := range ps.Volumes {
			if v.ConfigMap != nil && !configMaps[v.ConfigMap.Name] {
				t.Errorf("%s: volume from ConfigMap %s, which kustomization.yaml does not generate", where, v.ConfigMap.Name)
			}
			if v.Secret != nil && v.Secret["secretName"] != "govlisten" {
				t.Errorf("%s: volume from secret %v", where, v.Secret["secretName"])
			}
		}
		if longRunning && !slices.ContainsFunc(kinds["PodDisruptionBudget"], func(p k8sObject) bool { return selects(p.Spec, podLabels(o)) }) {
			t.Errorf("%s: no PodDisruptionBudget selects its pods", where)
		}
	}

	byName := func(kind, name string) k8sObject {
		for _, o := range kinds[kind] {
			if o.Metadata.Name == name {
				return o
			}
		}
		t.Fatalf("no %s %s", kind, name)
		return k8sObject{}
	}
	// Three NATS servers and three ClickHouse replicas, on volumes.
	for _, name := range []string{"nats", "clickhouse"} {
		ss := byName("StatefulSet", name)
		if ss.Spec["replicas"] != 3 || ss.Spec["volumeClaimTemplates"] == nil {
			t.Errorf("StatefulSet %s: %v replicas, volumes %v", name, ss.Spec["replicas"], ss.Spec["volumeClaimTemplates"] != nil)
		}
	}
	// Collectors and processors as Deployments of more than one replica;
	// the collector also as a CronJob with --once.
	for _, name := range []string{"processor", "collector"} {
		if d := byName("Deployment", name); d.Spec["replicas"].(int) < 2 {
			t.Errorf("Deployment %s has %v replicas", name, d.Spec["replicas"])
		}
	}
	if c := podSpec(t, byName("CronJob", "collect")).Containers[0]; !slices.Equal(c.Args, []string{"collect", "--once"}) {
		t.Errorf("collector CronJob runs %v", c.Args)
	}
	if c := podSpec(t, byName("Job", "migrate")).Containers[0]; !slices.Equal(c.Args, []string{"migrate"}) {
		t.Errorf("migrate Job runs %v", c.Args)
	}
	// KEDA scales the processors on the lag of consumer processor of MENTIONS.
	so := byName("ScaledObject", "processor")
	trig := so.Spec["triggers"].([]any)[0].(map[string]any)
	meta := trig["metadata"].(map[string]any)
	if so.Spec["scaleTargetRef"].(map[string]any)["name"] != "processor" || trig["type"] != "nats-jetstream" ||
		meta["stream"] != "MENTIONS" || meta["consumer"] != "processor" || !strings.HasPrefix(meta["natsServerMonitoringEndpoint"].(string), "nats.") {
		t.Errorf("ScaledObject: %+v", so.Spec)
	}
	if hpa := byName("HorizontalPodAutoscaler", "processor"); hpa.Spec["scaleTargetRef"].(map[string]any)["name"] != "processor" {
		t.Error("the HPA alternative does not scale the processors")
	}
	// Network policies: everything denied, then NATS clients are only
	// govlisten's roles (never Grafana or analysts), ClickHouse's peers only
	// ClickHouse.
	if deny := byName("NetworkPolicy", "default-deny-ingress"); len(deny.Spec["podSelector"].(map[string]any)) != 0 || deny.Spec["ingress"] != nil {
		t.Error("default-deny-ingress does not deny all ingress")
	}
	natsPolicy, _ := yaml.Marshal(byName("NetworkPolicy", "nats").Spec)
	if !strings.Contains(string(natsPolicy), "processor") || !strings.Contains(string(natsPolicy), "collector") || strings.Contains(string(natsPolicy), "grafana") {
		t.Errorf("NATS policy:\n%s", natsPolicy)
	}

	// The config the pods mount loads, as a cluster configuration.
	env := map[string]string{"GOVLISTEN_NATS_PASSWORD": "x", "GOVLISTEN_CLICKHOUSE_PASSWORD": "y"}
	cfg, err := config.Load("kubernetes/govlisten.yaml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("kubernetes/govlisten.yaml: %v", err)
	}
	if cfg.NATS.Stream.Replicas != 3 || cfg.NATS.DLQ.Replicas != 3 || cfg.ClickHouse.Cluster != "govlisten" {
		t.Errorf("cluster config: stream replicas %d, DLQ %d, ClickHouse cluster %q", cfg.NATS.Stream.Replicas, cfg.NATS.DLQ.Replicas, cfg.ClickHouse.Cluster)
	}
}

func probePath(p map[string]any) string {
	if g, ok := p["httpGet"].(map[string]any); ok {
		s, _ := g["path"].(string)
		return s
	}
	return ""
}

func podLabels(o k8sObject) map[string]string {
	var tmpl any
	if o.Kind == "CronJob" {
		return nil
	}
	tmpl = o.Spec["template"]
	labels := map[string]string{}
	for k, v := range tmpl.(map[string]any)["metadata"].(map[string]any)["labels"].(map[string]any) {
		labels[k] = v.(string)
	}
	return labels
}

// selects says whether a spec's selector.matchLabels all hold in labels.
func selects(spec map[string]any, labels map[string]string) bool {
	sel, _ := spec["selector"].(map[string]any)
	ml, _ := sel["matchLabels"].(map[string]any)
	if len(ml) == 0 {
		return false
	}
	for k, v := range ml {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// The ClickHouse server snippets, for hosts (deploy/clickhouse/config/) and
// for the pods (deploy/kubernetes/clickhouse/): each is well-formed XML
// with the root element the servers read, the cluster is named govlisten
// as the manifests' clickhouse.cluster, every shard replicates internally,
// Keeper has three voters, and the users' passwords come from the
// variables that the secrets provide.
func TestClickHouseServerConfig(t *testing.T) {
	type replica struct {
		Host string `xml:"host"`
		Port int    `xml:"port"`
	}
	type serverConfig struct {
		XMLName xml.Name
		Remote  struct {
			Clusters []struct {
				XMLName xml.Name
				Shards  []struct {
					Internal bool      `xml:"internal_replication"`
					Replicas []replica `xml:"replica"`
				} `xml:"shard"`
			} `xml:",any"`
		} `xml:"remote_servers"`
		Macros struct {
			Shard   string `xml:"shard"`
			Replica string `xml:"replica"`
		} `xml:"macros"`
		ZooKeeper []replica `xml:"zookeeper>node"`
		Keeper    struct {
			Servers []struct {
				ID int `xml:"id"`
			} `xml:"raft_configuration>server"`
		} `xml:"keeper_server"`
		DDLPath string `xml:"distributed_ddl>path"`
		Users   struct {
			Users []struct {
				XMLName  xml.Name
				Password struct {
					FromEnv string `xml:"from_env,attr"`
				} `xml:"password"`
				Networks []string `xml:"networks>ip"`
			} `xml:",any"`
		} `xml:"users"`
	}
	files, _ := filepath.Glob("clickhouse/config/*/*.xml")
	more, _ := filepath.Glob("kubernetes/clickhouse/*.xml")
	files = append(files, more...)
	if len(files) < 6 {
		t.Fatalf("only %d ClickHouse config files: %v", len(files), files)
	}
	provided := map[string]bool{"GOVLISTEN_CLICKHOUSE_PASSWORD": true, "GOVLISTEN_CLICKHOUSE_ANALYST_PASSWORD": true}
	clusters := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c serverConfig
		if err := xml.Unmarshal(b, &c); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if root := c.XMLName.Local; root != "yandex" && root != "clickhouse" {
			t.Errorf("%s: root <%s>", f, root)
		}
		for _, cl := range c.Remote.Clusters {
			clusters++
			if cl.XMLName.Local != "govlisten" {
				t.Errorf("%s: cluster %s; the manifests and docs use govlisten", f, cl.XMLName.Local)
			}
			for i, sh := range cl.Shards {
				if !sh.Internal || len(sh.Replicas) < 2 {
					t.Errorf("%s: shard %d: internal_replication %v, %d replicas", f, i+1, sh.Internal, len(sh.Replicas))
				}
			}
			if c.DDLPath == "" {
				t.Errorf("%s: no distributed_ddl path for ON CLUSTER", f)
			}
		}
		if n := len(c.Keeper.Servers); n != 0 && n != 3 {
			t.Errorf("%s: %d Keeper voters, want 3", f, n)
		}
		if n := len(c.ZooKeeper); n != 0 && n != 3 {
			t.Errorf("%s: %d coordination nodes, want 3", f, n)
		}
		for _, u := range c.Users.Users {
			if u.XMLName.Local == "default" {
				for _, ip := range u.Networks {
					if ip != "::1" && ip != "127.0.0.1" {
						t.Errorf("%s: the passwordless default user is reachable from %s", f, ip)
					}
				}
				continue
			}
			if !provided[u.Password.FromEnv] {
				t.Errorf("%s: user %s's password from %q, which no secret provides", f, u.XMLName.Local, u.Password.FromEnv)
			}
		}
		if strings.Contains(string(b), "<password>") && !strings.Contains(string(b), "<password>...</password>") {
			t.Errorf("%s holds a literal password", f)
		}
	}
	if clusters < 2 {
		t.Errorf("%d cluster definitions, want the hosts' and the pods'", clusters)
	}
}
