// Placeholder until the delivery helper lands its files.
enum DeliveryPlaceholder {}
