namespace PythonHpc.Mail;

/// <summary>Who a message goes to, and the links that are theirs alone.</summary>
internal sealed record Recipient(string Email, string? Name, Uri UnsubscribeUrl);
