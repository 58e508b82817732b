using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Flamewright.Testing;

/// <summary>Every log line the server wrote during a test, so that a test can fail on an unexpected error.</summary>
internal sealed class CapturedLogs : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string Category, EventId Event, string Message, Exception? Exception)> Entries { get; } = new();

    public IEnumerable<string> Errors => Entries.Where(e => e.Level >= LogLevel.Error).Select(e => $"{e.Category}: {e.Message} {e.Exception}");

    /// <summary>Waits until the server wrote an entry with this category and event id: the sign that work the client cannot see is done.</summary>
    public Task WaitForAsync(string category, int eventId, TimeSpan timeout) =>
        Eventually.HoldsAsync(() => Entries.Any(e => e.Category == category && e.Event.Id == eventId), $"the server writes log entry {category}[{eventId}]", timeout);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs logs, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            logs.Entries.Enqueue((logLevel, category, eventId, formatter(state, exception), exception));
    }
}
