using Flamewright.Server.Configuration;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Flamewright.Server.Receiver;

/// <summary>
/// Refuses agent calls without the configured token (<c>SW_AUTHENTICATION</c>, gRPC metadata
/// <c>authentication</c>) with UNAUTHENTICATED. The two pprof calls may be let through without it
/// (<see cref="ServerOptions.AllowPprofWithoutToken"/>) because the SkyWalking Go agent does not send it there.
/// The rules for every agent call: docs/protocol.md, "Services".
/// </summary>
internal sealed class AgentTokenInterceptor(ServerOptions options) : Interceptor
{
    /// <summary>The gRPC metadata key SkyWalking agents put their token in.</summary>
    public const string MetadataKey = "authentication";

    private const string PprofServicePrefix = "/skywalking.v10.PprofTask/";

    private readonly Token _token = new(options.Authentication);

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, responseStream, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, responseStream, context);
    }

    private void Check(ServerCallContext context)
    {
        if (!_token.IsSet)
        {
            return;
        }

        if (options.AllowPprofWithoutToken && context.Method.StartsWith(PprofServicePrefix, StringComparison.Ordinal))
        {
            return;
        }

        if (!_token.Matches(context.RequestHeaders.GetValue(MetadataKey)))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                $"the agent token is missing or wrong: send it as gRPC metadata '{MetadataKey}'"));
        }
    }
}
