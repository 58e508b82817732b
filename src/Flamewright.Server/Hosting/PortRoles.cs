using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Flamewright.Server.Hosting;

/// <summary>
/// Each port serves its own callers only: the agent port the agents' gRPC services, the HTTP port GraphQL, REST,
/// the UI and the health check. Kestrel routes every request to every endpoint whatever port it came in on, so
/// without this a client speaking h2c to the agent port reached GraphQL and the downloads, and an operator who
/// opened only the agent port to the fleet (and set only the agent token) exposed every profile.
/// See docs/security.md.
/// </summary>
internal static class PortRoles
{
    /// <summary>
    /// Refuses, before anything else runs, a request whose endpoint belongs to the other port.
    /// <paramref name="agentPort"/> gives the agent port as bound (known only once the server listens).
    /// </summary>
    public static WebApplication UsePortRoles(this WebApplication app, Func<int> agentPort)
    {
        app.Use(async (context, next) =>
        {
            bool onAgentPort = context.Connection.LocalPort == agentPort();
            bool forAgents = context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>() is not null;
            if (onAgentPort == forAgents)
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            if (onAgentPort && context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true)
            {
                // A gRPC client asking for a service this server does not have (the Go agent probes several): the
                // gRPC answer, so that it reads UNIMPLEMENTED rather than a transport error.
                context.Response.ContentType = "application/grpc";
                context.Response.Headers["grpc-status"] = "12";
                context.Response.Headers["grpc-message"] = "this server does not serve that service";
                return;
            }

            context.Response.StatusCode = StatusCodes.Status404NotFound;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync(
                onAgentPort
                    ? "this is the agent (gRPC) port: GraphQL, REST and the web UI are on the HTTP port\n"
                    : "this is the HTTP port: agents connect to the agent (gRPC) port\n",
                context.RequestAborted).ConfigureAwait(false);
        });
        return app;
    }
}
