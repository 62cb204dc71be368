// Test double, not a provider users run: a preview-only echo of pulumi-resource-aws and
// pulumi-resource-random, whose real builds (the Terraform bridge) are far too large for this
// toolchain. scripts/toolchain.sh installs copies of it into <prefix>/test-doubles, which is NOT
// on the PATH that `scripts/toolchain.sh --env` exports: only the engine policy-parity test adds
// it, to preview fixture programs that register AWS resources under the real engine.
//
// In a preview it echoes the program's inputs, so outputs it does not return
// (ARNs, endpoints, generated passwords) stay unknown, as with the real
// provider in a preview. It refuses to create, update or delete anything, and
// it answers no invokes.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Version is set with -ldflags "-X main.Version=…" (one build per provider name).
var Version = "0.0.0+test-double"

type echo struct {
	pulumirpc.UnimplementedResourceProviderServer
	name string
}

func main() {
	name := strings.TrimPrefix(filepath.Base(os.Args[0]), "pulumi-resource-")
	if len(os.Args) == 2 && os.Args[1] == "version" {
		fmt.Println(Version)
		return
	}
	p := &echo{name: name}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterResourceProviderServer(srv, p)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-%s (preview test double): %v\n", name, err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		os.Exit(1)
	}
}

func (p *echo) refuse(op string) error {
	return fmt.Errorf("pulumi-resource-%s %s is a preview-only test double (the real provider is not built here): "+
		"it cannot %s resources; install the real provider plugin", p.name, Version, op)
}

func (p *echo) Handshake(context.Context, *pulumirpc.ProviderHandshakeRequest,
) (*pulumirpc.ProviderHandshakeResponse, error) {
	return &pulumirpc.ProviderHandshakeResponse{AcceptSecrets: true, AcceptResources: true}, nil
}

func (p *echo) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: Version}, nil
}

func (p *echo) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: fmt.Sprintf(`{"name":%q}`, p.name)}, nil
}

func (p *echo) Attach(context.Context, *pulumirpc.PluginAttach) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (p *echo) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (p *echo) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *echo) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true, AcceptResources: true}, nil
}

func (p *echo) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func changedKeys(olds, news *structpb.Struct) ([]string, error) {
	opts := plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, KeepResources: true, SkipNulls: true}
	o, err := plugin.UnmarshalProperties(olds, opts)
	if err != nil {
		return nil, err
	}
	n, err := plugin.UnmarshalProperties(news, opts)
	if err != nil {
		return nil, err
	}
	d := o.Diff(n)
	if d == nil || !d.AnyChanges() {
		return nil, nil
	}
	var keys []string
	for _, k := range d.ChangedKeys() {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	return keys, nil
}

func (p *echo) diff(olds, news *structpb.Struct) (*pulumirpc.DiffResponse, error) {
	keys, err := changedKeys(olds, news)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
	}
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_SOME, Diffs: keys}, nil
}

func (p *echo) DiffConfig(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return p.diff(req.GetOldInputs(), req.GetNews())
}

func (p *echo) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds := req.GetOldInputs()
	if olds == nil {
		olds = req.GetOlds()
	}
	return p.diff(olds, req.GetNews())
}

func (p *echo) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	if !req.GetPreview() {
		return nil, p.refuse("create")
	}
	return &pulumirpc.CreateResponse{Properties: req.GetProperties()}, nil
}

func (p *echo) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	if !req.GetPreview() {
		return nil, p.refuse("update")
	}
	return &pulumirpc.UpdateResponse{Properties: req.GetNews()}, nil
}

func (p *echo) Delete(context.Context, *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	return nil, p.refuse("delete")
}

func (p *echo) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

func (p *echo) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	return nil, fmt.Errorf("pulumi-resource-%s preview test double cannot answer %s", p.name, req.GetTok())
}
