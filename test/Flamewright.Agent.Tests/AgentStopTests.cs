using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flamewright.Agent.Tests;

/// <summary>Stopping the agent library: whatever call is in flight, <see cref="ProfilingAgent.RunAsync"/> ends without an error.</summary>
public sealed class AgentStopTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task An_agent_stopped_while_its_calls_to_a_silent_server_are_in_flight_ends_cleanly() => Spec.Run(async () =>
    {
        // A server that accepts connections and never answers: every call of the agent hangs until it is stopped.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var held = new ConcurrentQueue<Socket>();
        using var stop = new CancellationTokenSource();
        Task accepting = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                held.Enqueue(await silent.AcceptSocketAsync(stop.Token));
            }
        });
        var options = new AgentOptions
        {
            Servers = [$"127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}"],
            Service = "go-service",
            Instance = "provider1",
            KeepAliveInterval = TimeSpan.FromMilliseconds(100),
            CallTimeout = TimeSpan.FromMinutes(5),
        };
        using var agent = new ProfilingAgent(options, NullLoggerFactory.Instance);

        Task running = agent.RunAsync(stop.Token);
        await Eventually.HoldsAsync(() => !held.IsEmpty, "the agent connected to the silent server");
        await Task.Delay(300); // its registration call, and a keep-alive, are waiting for answers
        await stop.CancelAsync();

        await running.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(running.IsCompletedSuccessfully);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => accepting);
        foreach (Socket socket in held)
        {
            socket.Dispose();
        }
    });
}
