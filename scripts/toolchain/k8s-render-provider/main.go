// Render-only stand-in for pulumi-resource-kubernetes (kubepolaris-ha toolchain).
//
// The real provider (module github.com/pulumi/pulumi-kubernetes/provider/v4) is
// refused by the Go module proxy this project can reach (HTTP 403), so
// scripts/toolchain.sh builds this instead when the real one cannot be built.
// It never talks to a cluster. It supports exactly what the local stack needs:
//
//   - preview: Check / Diff / Create(preview) echo the program's inputs, so the
//     engine, `--diff` and policy packs see the real resource inputs;
//   - up with `renderYamlToDirectory`: every Kubernetes object is written as
//     YAML to <dir>/0-crd/ (CustomResourceDefinitions) or <dir>/1-manifests/,
//     like the real provider's render mode; Delete removes the file;
//   - invoke kubernetes:yaml:decode (used by yaml.ConfigFile / ConfigGroup v1).
//
// Not supported (returns an error): `up` against a real cluster, Helm
// (helm.v3.Chart / Release, helm.v4.Chart), kustomize, yaml.v2 components.
// It reports version <VERSION>+render-standin so `pulumi about` shows what it is.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
	"gopkg.in/yaml.v3"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Version is set with -ldflags "-X main.Version=…".
var Version = "0.0.0+render-standin"

type provider struct {
	pulumirpc.UnimplementedResourceProviderServer

	mu        sync.Mutex
	renderDir string
	namespace string
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "version" {
		fmt.Println(Version)
		return
	}
	p := &provider{}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterResourceProviderServer(srv, p)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-kubernetes: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-kubernetes: %v\n", err)
		os.Exit(1)
	}
}

var keep = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, KeepResources: true, SkipNulls: true}

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	if s == nil {
		return resource.PropertyMap{}, nil
	}
	return plugin.UnmarshalProperties(s, keep)
}

func marshal(m resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, keep)
}

func (p *provider) Handshake(context.Context, *pulumirpc.ProviderHandshakeRequest,
) (*pulumirpc.ProviderHandshakeResponse, error) {
	return &pulumirpc.ProviderHandshakeResponse{AcceptSecrets: true, AcceptResources: true}, nil
}

func (p *provider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: Version}, nil
}

func (p *provider) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: `{"name":"kubernetes"}`}, nil
}

func (p *provider) Attach(context.Context, *pulumirpc.PluginAttach) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (p *provider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (p *provider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *provider) DiffConfig(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds := req.GetOldInputs()
	if olds == nil {
		olds = req.GetOlds()
	}
	return diff(olds, req.GetNews(), nil)
}

// configValue reads a provider setting from Configure's args or variables.
func configValue(req *pulumirpc.ConfigureRequest, key string) string {
	if args := req.GetArgs(); args != nil {
		if v, ok := args.GetFields()[key]; ok {
			if s := v.GetStringValue(); s != "" && s != plugin.UnknownStringValue {
				return s
			}
			// secret-wrapped value
			if sv := v.GetStructValue(); sv != nil {
				if inner, ok := sv.GetFields()["value"]; ok {
					return inner.GetStringValue()
				}
			}
		}
	}
	return req.GetVariables()["kubernetes:config:"+key]
}

func (p *provider) Configure(_ context.Context, req *pulumirpc.ConfigureRequest,
) (*pulumirpc.ConfigureResponse, error) {
	dir := configValue(req, "renderYamlToDirectory")
	if dir == "" {
		dir = os.Getenv("PULUMI_K8S_RENDER_YAML_TO_DIRECTORY")
	}
	if dir != "" && !filepath.IsAbs(dir) {
		if wd, err := os.Getwd(); err == nil {
			dir = filepath.Join(wd, dir)
		}
	}
	p.mu.Lock()
	p.renderDir = dir
	p.namespace = configValue(req, "namespace")
	p.mu.Unlock()
	return &pulumirpc.ConfigureResponse{
		AcceptSecrets: true, SupportsPreview: true, AcceptResources: true,
	}, nil
}

// gvk derives apiVersion/kind from a type token such as kubernetes:apps/v1:Deployment
// or kubernetes:core/v1:ConfigMap (core → "v1").
func gvk(typ string) (string, string) {
	parts := strings.Split(typ, ":")
	if len(parts) != 3 {
		return "", ""
	}
	gv := strings.TrimPrefix(parts[1], "core/")
	return gv, parts[2]
}

func typeOf(urn, typ string) string {
	if typ != "" {
		return typ
	}
	return string(resource.URN(urn).Type())
}

var nonAlnum = regexp.MustCompile(`[^a-z0-9-]+`)

func randomSuffix(seed []byte, n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	h := sha256.Sum256(seed)
	out := make([]byte, n)
	for i := 0; i < n; i++ {
		v := binary.BigEndian.Uint16(h[2*i%30:])
		out[i] = alphabet[int(v)%len(alphabet)]
	}
	return string(out)
}

func (p *provider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	apiVersion, kind := gvk(typeOf(req.GetUrn(), req.GetType()))
	if strings.HasPrefix(typeOf(req.GetUrn(), req.GetType()), "kubernetes:") && kind != "" &&
		!strings.HasSuffix(kind, "List") && kind != "CustomResource" {
		if _, ok := news["apiVersion"]; !ok && apiVersion != "" {
			news["apiVersion"] = resource.NewStringProperty(apiVersion)
		}
		if _, ok := news["kind"]; !ok {
			news["kind"] = resource.NewStringProperty(kind)
		}
	}

	// Autonaming: metadata.name = <resource name>-<8 random chars>, kept stable across updates.
	meta := resource.PropertyMap{}
	if m, ok := news["metadata"]; ok && m.IsObject() {
		meta = m.ObjectValue().Copy()
	}
	if _, hasName := meta["name"]; !hasName {
		name := ""
		if om, ok := olds["metadata"]; ok && om.IsObject() {
			if on, ok := om.ObjectValue()["name"]; ok && on.IsString() {
				if ann, ok := om.ObjectValue()["annotations"]; ok && ann.IsObject() {
					if a, ok := ann.ObjectValue()["pulumi.com/autonamed"]; ok && a.IsString() && a.StringValue() == "true" {
						name = on.StringValue()
					}
				}
			}
		}
		if name == "" {
			if an := req.GetAutonaming(); an != nil && an.GetProposedName() != "" {
				name = an.GetProposedName()
			} else {
				base := req.GetName()
				if base == "" {
					base = string(resource.URN(req.GetUrn()).Name())
				}
				base = nonAlnum.ReplaceAllString(strings.ToLower(base), "-")
				name = base + "-" + randomSuffix(append(req.GetRandomSeed(), []byte(req.GetUrn())...), 8)
			}
		}
		meta["name"] = resource.NewStringProperty(name)
		ann := resource.PropertyMap{}
		if a, ok := meta["annotations"]; ok && a.IsObject() {
			ann = a.ObjectValue().Copy()
		}
		ann["pulumi.com/autonamed"] = resource.NewStringProperty("true")
		meta["annotations"] = resource.NewObjectProperty(ann)
		news["metadata"] = resource.NewObjectProperty(meta)
	}
	inputs, err := marshal(news)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: inputs}, nil
}

// diff compares top-level and metadata identity fields of two input bags.
func diff(olds, news *structpb.Struct, replaceKeys []string) (*pulumirpc.DiffResponse, error) {
	o, err := unmarshal(olds)
	if err != nil {
		return nil, err
	}
	n, err := unmarshal(news)
	if err != nil {
		return nil, err
	}
	delete(o, "__inputs")
	d := o.Diff(n)
	if d == nil || !d.AnyChanges() {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
	}
	var diffs, replaces []string
	for _, k := range d.ChangedKeys() {
		diffs = append(diffs, string(k))
	}
	sort.Strings(diffs)
	for _, path := range replaceKeys {
		if !reflect.DeepEqual(lookup(o, path), lookup(n, path)) {
			replaces = append(replaces, path)
		}
	}
	return &pulumirpc.DiffResponse{
		Changes: pulumirpc.DiffResponse_DIFF_SOME, Diffs: diffs, Replaces: replaces,
	}, nil
}

func lookup(m resource.PropertyMap, path string) interface{} {
	var cur interface{} = m.Mappable()
	for _, part := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]interface{})
		if !ok {
			return nil
		}
		cur = mm[part]
	}
	return cur
}

func (p *provider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds := req.GetOldInputs()
	if olds == nil {
		olds = req.GetOlds()
	}
	return diff(olds, req.GetNews(), []string{"apiVersion", "kind", "metadata.name", "metadata.namespace"})
}

// plain converts properties to plain values for YAML: secrets are revealed
// (as the real provider's render mode does), unknowns become a marker.
func plain(m resource.PropertyMap) map[string]interface{} {
	out := map[string]interface{}{}
	for k, v := range m {
		if strings.HasPrefix(string(k), "__") {
			continue
		}
		if pv := plainValue(v); pv != nil {
			out[string(k)] = pv
		}
	}
	return out
}

func plainValue(v resource.PropertyValue) interface{} {
	switch {
	case v.IsNull():
		return nil
	case v.IsSecret():
		return plainValue(v.SecretValue().Element)
	case v.IsComputed():
		return "<unknown>"
	case v.IsOutput():
		o := v.OutputValue()
		if !o.Known {
			return "<unknown>"
		}
		return plainValue(o.Element)
	case v.IsObject():
		return plain(v.ObjectValue())
	case v.IsArray():
		arr := []interface{}{}
		for _, e := range v.ArrayValue() {
			arr = append(arr, plainValue(e))
		}
		return arr
	case v.IsNumber():
		f := v.NumberValue()
		if f == float64(int64(f)) {
			return int64(f)
		}
		return f
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	default:
		return v.V
	}
}

func (p *provider) dir() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.renderDir
}

func filePath(dir string, obj map[string]interface{}) string {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	meta, _ := obj["metadata"].(map[string]interface{})
	name, _ := meta["name"].(string)
	ns, _ := meta["namespace"].(string)
	sub := "1-manifests"
	if kind == "CustomResourceDefinition" {
		sub = "0-crd"
	}
	parts := []string{strings.ReplaceAll(apiVersion, "/", "_"), strings.ToLower(kind)}
	if ns != "" {
		parts = append(parts, ns)
	}
	parts = append(parts, name)
	return filepath.Join(dir, sub, nonFile.ReplaceAllString(strings.Join(parts, "-"), "_")+".yaml")
}

var nonFile = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func toYAML(obj map[string]interface{}) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(obj); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}

func idOf(obj map[string]interface{}) string {
	meta, _ := obj["metadata"].(map[string]interface{})
	name, _ := meta["name"].(string)
	if ns, _ := meta["namespace"].(string); ns != "" {
		return ns + "/" + name
	}
	return name
}

var errNoCluster = errors.New("this toolchain's pulumi-resource-kubernetes is a render-only stand-in: " +
	"configure the kubernetes provider with renderYamlToDirectory (or use the real provider for a cluster)")

func (p *provider) write(props *structpb.Struct) (string, error) {
	dir := p.dir()
	if dir == "" {
		return "", errNoCluster
	}
	m, err := unmarshal(props)
	if err != nil {
		return "", err
	}
	obj := plain(m)
	b, err := toYAML(obj)
	if err != nil {
		return "", err
	}
	path := filePath(dir, obj)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	return idOf(obj), os.WriteFile(path, b, 0o644)
}

func (p *provider) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	if req.GetPreview() {
		return &pulumirpc.CreateResponse{Properties: req.GetProperties()}, nil
	}
	id, err := p.write(req.GetProperties())
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: req.GetProperties()}, nil
}

func (p *provider) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	if !req.GetPreview() {
		if err := p.remove(req.GetOlds()); err != nil {
			return nil, err
		}
		if _, err := p.write(req.GetNews()); err != nil {
			return nil, err
		}
	}
	return &pulumirpc.UpdateResponse{Properties: req.GetNews()}, nil
}

func (p *provider) remove(props *structpb.Struct) error {
	dir := p.dir()
	if dir == "" {
		return nil
	}
	m, err := unmarshal(props)
	if err != nil {
		return err
	}
	err = os.Remove(filePath(dir, plain(m)))
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

func (p *provider) Delete(_ context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, p.remove(req.GetProperties())
}

func (p *provider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

func (p *provider) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	switch req.GetTok() {
	case "kubernetes:yaml:decode":
		text := req.GetArgs().GetFields()["text"].GetStringValue()
		dec := yaml.NewDecoder(strings.NewReader(text))
		var objs []interface{}
		for {
			var obj map[string]interface{}
			err := dec.Decode(&obj)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("kubernetes:yaml:decode: %w", err)
			}
			if obj != nil {
				objs = append(objs, obj)
			}
		}
		ret, err := structpb.NewStruct(map[string]interface{}{"result": objs})
		if err != nil {
			return nil, err
		}
		return &pulumirpc.InvokeResponse{Return: ret}, nil
	default:
		return nil, fmt.Errorf("invoke %s is not supported by the render-only kubernetes stand-in", req.GetTok())
	}
}

func (p *provider) Construct(_ context.Context, req *pulumirpc.ConstructRequest) (*pulumirpc.ConstructResponse, error) {
	return nil, fmt.Errorf("component %s is not supported by the render-only kubernetes stand-in "+
		"(use the real pulumi-resource-kubernetes)", req.GetType())
}
