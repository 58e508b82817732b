using Flamewright.Protocol.Common;
using Flamewright.Protocol.Management;
using Flamewright.Server.Storage;
using Grpc.Core;

namespace Flamewright.Server.Receiver;

/// <summary>
/// SkyWalking's <c>ManagementService</c>: agents register their instance with its properties and keep it
/// alive; this is how services and instances become known. Go agents report layer GENERAL (docs/protocol.md,
/// "Registration and keep-alive").
/// </summary>
internal sealed class ManagementReceiver(IProfilingStore store, TimeProvider time) : ManagementService.ManagementServiceBase
{
    /// <summary>The layer of an agent that names none: SkyWalking's layer for agent-instrumented services.</summary>
    public const string DefaultLayer = "GENERAL";

    public override async Task<Commands> reportInstanceProperties(InstanceProperties request, ServerCallContext context)
    {
        AgentNames.Check(request.Service, request.ServiceInstance);
        var properties = request.Properties.Select(p => KeyValuePair.Create(p.Key, p.Value)).ToList();
        await store.RecordInstanceAsync(
            new InstanceHeartbeat(request.Service, request.ServiceInstance, LayerOf(request.Layer), properties, Now()),
            context.CancellationToken).ConfigureAwait(false);
        return new Commands();
    }

    public override async Task<Commands> keepAlive(InstancePingPkg request, ServerCallContext context)
    {
        AgentNames.Check(request.Service, request.ServiceInstance);
        await store.RecordInstanceAsync(
            new InstanceHeartbeat(request.Service, request.ServiceInstance, LayerOf(request.Layer), null, Now()),
            context.CancellationToken).ConfigureAwait(false);
        return new Commands();
    }

    private static string LayerOf(string layer) => string.IsNullOrWhiteSpace(layer) ? DefaultLayer : layer;

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();
}

/// <summary>Bounds on the names agents send, so that a broken agent cannot fill the database with one field.</summary>
internal static class AgentNames
{
    /// <summary>Longest service or instance name accepted, in characters: far above any real name.</summary>
    public const int MaxLength = 1024;

    public static void Check(string service, string instance)
    {
        if (service.Length > MaxLength || instance.Length > MaxLength)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"service and instance names are limited to {MaxLength} characters"));
        }
    }
}
