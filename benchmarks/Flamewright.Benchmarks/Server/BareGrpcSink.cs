using Flamewright.Protocol.Common;
using Flamewright.Protocol.Pprof;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Flamewright.Benchmarks.Server;

/// <summary>
/// The ingest baseline: Kestrel and gRPC as the server configures them (HTTP/2 cleartext on loopback, 4 MiB
/// messages), serving <c>PprofTask.collect</c> and nothing else. It answers the metadata, counts the content
/// and throws it away: what receiving costs before anything is parsed or stored.
/// </summary>
internal sealed class BareGrpcSink : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BareGrpcSink(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public static async Task<BareGrpcSink> StartAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(System.Net.IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddGrpc(grpc => grpc.MaxReceiveMessageSize = 4 * 1024 * 1024);
        WebApplication app = builder.Build();
        app.MapGrpcService<DiscardingPprofTask>();
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new BareGrpcSink(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class DiscardingPprofTask : PprofTask.PprofTaskBase
    {
        public override Task<Commands> getPprofTaskCommands(PprofTaskCommandQuery request, ServerCallContext context) =>
            Task.FromResult(new Commands());

        public override async Task collect(IAsyncStreamReader<PprofData> requestStream, IServerStreamWriter<PprofCollectionResponse> responseStream, ServerCallContext context)
        {
            if (!await requestStream.MoveNext() || requestStream.Current.Metadata is not { } metadata)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, "metadata first"));
            }

            await responseStream.WriteAsync(new PprofCollectionResponse { Status = PprofProfilingStatus.PprofProfilingSuccess });
            long received = 0;
            while (await requestStream.MoveNext())
            {
                received += requestStream.Current.Content.Length;
            }

            if (received != metadata.ContentSize)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"{received} bytes received, {metadata.ContentSize} declared"));
            }
        }
    }
}
